"""Erasure and export hooks for promises, listed in ``tillit.privacy.areas``.

Erasure deletes the person's broken instances (the weekly and daily counts hold no person and
follow at the next measurement, which the snapshots make without them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tillit.promises.models import Promise, PromiseBreach

ERASED_TABLES = ("promise_breach",)


def erase_breaches(session: Session, customer_id: int, needles: list[str]) -> int:
    result = session.execute(delete(PromiseBreach).where(PromiseBreach.customer_id == customer_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def export_breaches(session: Session, customer_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Promise.key, PromiseBreach)
        .join(Promise, Promise.id == PromiseBreach.promise_id)
        .where(PromiseBreach.customer_id == customer_id)
        .order_by(PromiseBreach.id)
    )
    return [
        {
            "promise": key,
            "evidence": f"{breach.evidence_kind}:{breach.evidence_id}",
            "broke_at": breach.broke_at.isoformat(),
            "channel": breach.channel,
            "case_id": breach.case_id,
        }
        for key, breach in rows
    ]
