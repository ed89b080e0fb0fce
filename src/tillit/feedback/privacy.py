"""Erasure and export hooks for feedback, listed in ``tillit.privacy.areas``.

Erasure removes the free text and the phrases quoted from it and unlinks the person;
the language, sentiment label and theme stay as anonymous counts, so theme volumes and
trends do not change retroactively.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tillit.feedback.models import Feedback

ERASED_TABLES = ("insight_feedback",)


def erase_feedback(session: Session, customer_id: int, needles: list[str]) -> int:
    result = session.execute(
        update(Feedback)
        .where(Feedback.customer_id == customer_id)
        .values(text=None, sentiment_explanation=[], customer_id=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def export_feedback(session: Session, customer_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Feedback).where(Feedback.customer_id == customer_id).order_by(Feedback.id)
    )
    return [
        {
            "text": f.text,
            "source": f.source,
            "channel": f.channel,
            "language": f.language,
            "sentiment": f.sentiment_label,
            "nps": f.nps,
            "csat": f.csat,
            "created_at": f.created_at.isoformat(),
        }
        for f in rows
    ]
