"""Merge suggestions from probabilistic matching, decided by staff or merged automatically.

Profiles are grouped by the source that gave them their first identifier (``source:store``,
``source:web shop``); the two groups are linked with ``matching.link``. A pair at or above the
auto threshold is merged at once (status ``auto``, undoable with ``merge.unmerge``); a pair
between the review floor and the threshold waits as an ``open`` suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.customers.models import Customer, Identity, IdentityType
from tillit.errors import Conflict, NotFound
from tillit.identity import matching
from tillit.identity.merge import merge_profiles
from tillit.identity.models import MatchSuggestion

REVIEW_FLOOR = 0.8


@dataclass
class MatchReport:
    suggested: int = 0
    merged: int = 0


def profile_records(*, session: Session, source: str) -> list[dict[str, str | None]]:
    """Matching fields of the profiles whose first identifier came from ``source``."""
    first = (
        select(Identity.customer_id, func.min(Identity.id).label("first_id"))
        .group_by(Identity.customer_id)
        .subquery()
    )
    customers = session.scalars(
        select(Customer)
        .join(first, first.c.customer_id == Customer.id)
        .join(Identity, Identity.id == first.c.first_id)
        .where(Identity.source == source)
    ).all()
    phones = dict(
        session.execute(
            select(Identity.customer_id, func.min(Identity.value))
            .where(
                Identity.type == IdentityType.phone,
                Identity.customer_id.in_([c.id for c in customers]),
            )
            .group_by(Identity.customer_id)
        ).all()
    )
    return [_record(c, phones.get(c.id)) for c in customers]


def _record(customer: Customer, phone: str | None) -> dict[str, str | None]:
    traits: dict[str, Any] = customer.traits or {}
    address = traits.get("address") if isinstance(traits.get("address"), dict) else {}

    def text(value: object) -> str | None:
        return str(value).strip() or None if value not in (None, "") else None

    return {
        "unique_id": str(customer.id),
        "first_name": text(traits.get("firstName")),
        "last_name": text(traits.get("lastName")),
        "birth_date": (text(traits.get("birthday")) or "")[:10] or None,
        "postcode": text(traits.get("postcode") or (address or {}).get("postalCode")),
        # The last 8 digits: local and international forms of one number compare equal.
        "phone": phone[-8:] if phone else None,
    }


def run_matching(
    *,
    session: Session,
    left_source: str,
    right_source: str,
    auto_threshold: float,
    actor: Actor,
    memory_limit: str = "3GB",
    spill_directory: Path | None = None,
) -> MatchReport:
    left = profile_records(session=session, source=left_source)
    right = profile_records(session=session, source=right_source)
    report = MatchReport()
    if not left or not right:
        return report
    pairs = matching.link(
        left,
        right,
        threshold=REVIEW_FLOOR,
        memory_limit=memory_limit,
        spill_directory=spill_directory,
    )
    for pair in pairs:
        a, b = sorted((int(pair.left_id), int(pair.right_id)))
        known = session.scalar(
            select(MatchSuggestion.id).where(
                MatchSuggestion.left_customer_id == a, MatchSuggestion.right_customer_id == b
            )
        )
        if known:
            continue
        suggestion = MatchSuggestion(
            left_customer_id=a, right_customer_id=b, probability=pair.probability
        )
        session.add(suggestion)
        session.flush()
        report.suggested += 1
        if pair.probability >= auto_threshold:
            _merge(session, suggestion, actor, status="auto")
            report.merged += 1
    return report


def decide(*, session: Session, suggestion_id: int, accept: bool, actor: Actor) -> MatchSuggestion:
    suggestion = session.get(MatchSuggestion, suggestion_id)
    if suggestion is None:
        raise NotFound(f"match suggestion {suggestion_id} does not exist")
    if suggestion.status != "open":
        raise Conflict(f"match suggestion {suggestion_id} was already {suggestion.status}")
    if accept:
        _merge(session, suggestion, actor, status="accepted")
    else:
        suggestion.status, suggestion.decided_by = "rejected", actor.label
    return suggestion


def open_suggestions(*, session: Session, limit: int = 100) -> list[MatchSuggestion]:
    return list(
        session.scalars(
            select(MatchSuggestion)
            .where(MatchSuggestion.status == "open")
            .order_by(MatchSuggestion.probability.desc())
            .limit(limit)
        )
    )


def _merge(session: Session, suggestion: MatchSuggestion, actor: Actor, *, status: str) -> None:
    entry = merge_profiles(
        session=session,
        from_id=suggestion.right_customer_id,
        into_id=suggestion.left_customer_id,
        actor=actor,
        reason=f"match: probability {suggestion.probability:.4f}",
    )
    suggestion.status, suggestion.merge_id, suggestion.decided_by = status, entry.id, actor.label
