"""The log of contact-policy decisions on real sends, and the sends that count toward caps.

The policy itself lives in ``tillit.contact``; this module only keeps what it decided, so the
customer can read "what you sent me, what you held back, and why".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent.models import ContactDecision, Send
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.storage.base import utcnow

OUTCOMES = ("allowed", "deferred", "denied")


def log_decision(
    *,
    session: Session,
    customer_id: int,
    channel: str,
    kind: str,
    outcome: str,
    reasons: Sequence[str] = (),
    purpose_key: str | None = None,
    topic: str | None = None,
    defer_until: datetime | None = None,
    decided_at: datetime | None = None,
) -> ContactDecision:
    if outcome not in OUTCOMES:
        raise InvalidInput(FieldError("outcome", f"must be one of {', '.join(OUTCOMES)}"))
    if outcome == "deferred" and defer_until is None:
        raise InvalidInput(FieldError("defer_until", "a deferred decision needs a time"))
    decision = ContactDecision(
        customer_id=customer_id,
        channel=channel,
        kind=kind,
        outcome=outcome,
        reasons=list(reasons),
        purpose_key=purpose_key,
        topic=topic,
        defer_until=defer_until,
        decided_at=decided_at or utcnow(),
    )
    session.add(decision)
    session.flush()
    return decision


def record_send(
    *,
    session: Session,
    customer_id: int,
    channel: str,
    kind: str,
    topic: str | None = None,
    decision_id: int | None = None,
    sent_at: datetime | None = None,
) -> Send:
    """Count a message that went out. With ``decision_id``, the decision is marked as sent."""
    if decision_id is not None:
        decision = session.get(ContactDecision, decision_id)
        if decision is None or decision.customer_id != customer_id:
            raise NotFound(f"customer {customer_id} has no contact decision {decision_id}")
        if decision.outcome != "allowed":
            raise InvalidInput(FieldError("decision_id", "only an allowed decision can be sent"))
        decision.sent = True
    send = Send(
        customer_id=customer_id,
        channel=channel,
        kind=kind,
        topic=topic,
        decision_id=decision_id,
        sent_at=sent_at or utcnow(),
    )
    session.add(send)
    session.flush()
    return send


def decisions_since(
    *, session: Session, customer_id: int, days: int = 90, now: datetime | None = None
) -> list[ContactDecision]:
    since = (now or utcnow()) - timedelta(days=days)
    return list(
        session.scalars(
            select(ContactDecision)
            .where(ContactDecision.customer_id == customer_id, ContactDecision.decided_at >= since)
            .order_by(ContactDecision.decided_at.desc())
        )
    )


def recent_sends(
    *, session: Session, customer_id: int, days: int = 31, now: datetime | None = None
) -> dict[str, list[datetime]]:
    """Send times per channel, oldest first: enough to check day, week and month caps."""
    since = (now or utcnow()) - timedelta(days=days)
    by_channel: dict[str, list[datetime]] = {}
    for channel, sent_at in session.execute(
        select(Send.channel, Send.sent_at)
        .where(Send.customer_id == customer_id, Send.sent_at >= since)
        .order_by(Send.sent_at)
    ):
        by_channel.setdefault(channel, []).append(sent_at)
    return by_channel
