"""The log of contact-policy decisions on real sends, the sends that count toward caps, and
the contact points a message could not reach (read by the "reachable" check).

The policy itself (:mod:`tillit.contact.policy`) stays pure; this module only keeps what it
decided, so the customer can read "what you sent me, what you held back, and why".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from tillit.contact.models import Outcome
from tillit.contact.tables import DecisionRecord, DeliveryFailure, SendRecord
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.storage.base import utcnow

OUTCOMES = tuple(outcome.value for outcome in Outcome)


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
) -> DecisionRecord:
    if outcome not in OUTCOMES:
        raise InvalidInput(FieldError("outcome", f"must be one of {', '.join(OUTCOMES)}"))
    if outcome == "deferred" and defer_until is None:
        raise InvalidInput(FieldError("defer_until", "a deferred decision needs a time"))
    decision = DecisionRecord(
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
) -> SendRecord:
    """Count a message that went out. With ``decision_id``, the decision is marked as sent."""
    if decision_id is not None:
        decision = session.get(DecisionRecord, decision_id)
        if decision is None or decision.customer_id != customer_id:
            raise NotFound(f"customer {customer_id} has no contact decision {decision_id}")
        if decision.outcome != "allowed":
            raise InvalidInput(FieldError("decision_id", "only an allowed decision can be sent"))
        decision.sent = True
    send = SendRecord(
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


def count_send(
    *,
    session: Session,
    customer_id: int,
    channel: str,
    kind: str,
    topic: str | None,
    decision_id: int | None,
    sent_at: datetime,
) -> None:
    """:func:`record_send` in two plain statements, for a sender settling message after
    message; the caller has checked that ``decision_id`` (if any) is the customer's and
    allowed the send."""
    connection = session.connection()
    if decision_id is not None:
        connection.execute(_MARK_DECISION_SENT, {"decision": decision_id})
    connection.execute(
        _INSERT_SEND,
        {
            "customer_id": customer_id,
            "channel": channel,
            "kind": kind,
            "topic": topic,
            "decision_id": decision_id,
            "sent_at": sent_at,
        },
    )


_SENDS: Table = SendRecord.__table__  # type: ignore[assignment]
_DECISIONS: Table = DecisionRecord.__table__  # type: ignore[assignment]
# Built once (count_send runs per message sent).
_INSERT_SEND = insert(_SENDS)
_MARK_DECISION_SENT = (
    update(_DECISIONS).where(_DECISIONS.c.id == bindparam("decision")).values(sent=True)
)


def decisions_since(
    *, session: Session, customer_id: int, days: int = 90, now: datetime | None = None
) -> list[DecisionRecord]:
    since = (now or utcnow()) - timedelta(days=days)
    return list(
        session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.customer_id == customer_id, DecisionRecord.decided_at >= since)
            .order_by(DecisionRecord.decided_at.desc())
        )
    )


def record_delivery_failure(
    *,
    session: Session,
    customer_id: int,
    channel: str,
    point_hash: str,
    permanent: bool,
    reason: str,
    at: datetime | None = None,
) -> None:
    """A message to this contact point bounced (``permanent``) or failed on every attempt.
    One bounce, or :data:`tillit.contact.state.SOFT_FAILURE_LIMIT` failures with no delivery
    between them, make the point unreachable on ``channel``
    (:func:`tillit.contact.state.load_contact_states`)."""
    session.add(
        DeliveryFailure(
            customer_id=customer_id,
            channel=channel,
            point_hash=point_hash,
            permanent=permanent,
            reason=reason[:500],
            failed_at=at or utcnow(),
        )
    )


def record_delivery(*, session: Session, customer_id: int, channel: str, point_hash: str) -> None:
    """A message reached this point: its earlier failures (not its bounces) no longer count."""
    session.execute(
        delete(DeliveryFailure)
        .where(
            DeliveryFailure.customer_id == customer_id,
            DeliveryFailure.channel == channel,
            DeliveryFailure.point_hash == point_hash,
            DeliveryFailure.permanent.is_(False),
        )
        .execution_options(synchronize_session=False)
    )
