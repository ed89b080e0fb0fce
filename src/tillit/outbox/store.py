"""The outbox's state changes, each its own short transaction: claim a batch, then settle each
message (sent, retry, failed, bounced, held, deferred) the moment its outcome is known.

A claim is a lease, not a lock: ``claim_token`` and ``claimed_at`` say who took a message and
when. Every settling update names the token, so a sender whose lease ran out (and whose
messages another sender took over) can never overwrite the newer sender's outcome.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.outbox.models import OutboxMessage, OutboxState
from tillit.storage.base import BigId, UtcDateTime
from tillit.storage.session import SessionFactory

ERROR_LENGTH = 500
MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
SENDS: Table = SendRecord.__table__  # type: ignore[assignment]
DECISIONS: Table = DecisionRecord.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Claimed:
    """A claimed message, detached from any session: what a sender needs to send it."""

    id: int
    customer_id: int
    channel: str
    kind: str
    topic: str | None
    purpose_key: str | None
    language: str
    subject: str
    body: str
    source: str
    dedupe_key: str
    decision_id: int | None
    attempts: int  # this attempt included
    claim_token: str


def _due(now: datetime, lease: timedelta, channels: Sequence[str]) -> object:
    return and_(
        OutboxMessage.channel.in_(list(channels)),
        or_(
            and_(
                OutboxMessage.state == OutboxState.queued.value,
                OutboxMessage.next_attempt_at <= now,
            ),
            # Its sender died (or hangs) past the lease: take it over.
            and_(
                OutboxMessage.state == OutboxState.sending.value,
                OutboxMessage.claimed_at < now - lease,
            ),
        ),
    )


def claim(
    sessions: SessionFactory,
    *,
    now: datetime,
    lease: timedelta,
    size: int,
    channels: Sequence[str],
    skip_customers: Collection[int] = (),
) -> list[Claimed]:
    """Take up to ``size`` due messages on ``channels`` for this sender, in one transaction:
    state ``sending``, a fresh claim token, the claim time, one more attempt; none to
    ``skip_customers``. On PostgreSQL concurrent senders skip each other's rows (``FOR UPDATE
    SKIP LOCKED``); on SQLite the write lock queues them and the second sees the first's
    claims."""
    token = secrets.token_hex(16)
    condition = _due(now, lease, channels)
    wanted = select(OutboxMessage.id).where(condition)  # type: ignore[arg-type]
    if skip_customers:
        wanted = wanted.where(OutboxMessage.customer_id.not_in(list(skip_customers)))
    with sessions() as session, session.begin():
        ids = list(
            session.scalars(
                wanted.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(size)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), condition)  # type: ignore[arg-type]
            .values(
                state=OutboxState.sending.value,
                claim_token=token,
                claimed_at=now,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.customer_id,
                OutboxMessage.channel,
                OutboxMessage.kind,
                OutboxMessage.topic,
                OutboxMessage.purpose_key,
                OutboxMessage.language,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.source,
                OutboxMessage.dedupe_key,
                OutboxMessage.decision_id,
                OutboxMessage.attempts,
            )
            .where(OutboxMessage.claim_token == token)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        ).all()
    return [Claimed(*row, claim_token=token) for row in rows]  # type: ignore[call-arg]


def _settle(session: Session, message: Claimed, **values: object) -> bool:
    """Update a message this sender still holds; False when its lease was taken over."""
    # Core on the session's connection: no ORM bookkeeping for a one-row update.
    result = session.connection().execute(
        update(MESSAGES)
        .where(
            MESSAGES.c.id == message.id,
            MESSAGES.c.claim_token == message.claim_token,
            MESSAGES.c.state == OutboxState.sending.value,
        )
        .values(**values)
    )
    return bool(result.rowcount)


# Built once: a sender marks message after message, and building the statement each time
# cost more than running it.
_MARK_SENT = (
    update(MESSAGES)
    .where(
        MESSAGES.c.id == bindparam("row"),
        MESSAGES.c.claim_token == bindparam("token"),
        MESSAGES.c.state == OutboxState.sending.value,
    )
    .values(
        state=OutboxState.sent.value,
        sent_at=bindparam("at"),
        provider_id=bindparam("provider"),
        claim_token=None,
        last_error=None,
    )
)


def mark_sent(session: Session, message: Claimed, *, at: datetime, provider_id: str) -> bool:
    result = session.connection().execute(
        _MARK_SENT,
        {"row": message.id, "token": message.claim_token, "at": at, "provider": provider_id[:300]},
    )
    return bool(result.rowcount)


# mark_sent and tillit.contact.log.count_send in one statement, for PostgreSQL (its
# data-modifying CTEs): committed on its own it is one round trip to the server instead of four
# (BEGIN, two statements, COMMIT), and a sender waits for that round trip, the commit's flush
# included, before it hands the next message over. The send is counted (and the decision marked
# sent) only where the message was still this sender's: RETURNING says which.
_SENT = _MARK_SENT.returning(MESSAGES.c.id).cte("sent")
_DECISION = bindparam("decision", type_=BigId)
_DECIDED = (
    update(DECISIONS)
    .where(DECISIONS.c.id == _DECISION, exists(select(_SENT.c.id)))
    .values(sent=True)
    .cte("decided")
)
_MARK_SENT_AND_COUNT = (
    insert(SENDS)
    .from_select(
        ["customer_id", "channel", "kind", "topic", "decision_id", "sent_at"],
        # Typed parameters: psycopg's dialect writes each with its type (a NULL topic or
        # decision is then no "unknown" for the server). None is named after a column: in an
        # INSERT or UPDATE such a parameter would also set that column.
        select(
            bindparam("send_customer", type_=BigId),
            bindparam("send_channel", type_=String),
            bindparam("send_kind", type_=String),
            bindparam("send_topic", type_=String),
            _DECISION,
            bindparam("at", type_=UtcDateTime),
        ).select_from(_SENT),
    )
    .add_cte(_DECIDED)
    .returning(SENDS.c.id)
)


def mark_sent_and_count(
    connection: Connection, message: Claimed, *, at: datetime, provider_id: str
) -> bool:
    """:func:`mark_sent` and the send counted for the caps, in one PostgreSQL statement;
    ``message.decision_id`` must be one that allowed the send (as for ``count_send``)."""
    rows = connection.execute(
        _MARK_SENT_AND_COUNT,
        {
            "row": message.id,
            "token": message.claim_token,
            "at": at,
            "provider": provider_id[:300],
            "send_customer": message.customer_id,
            "send_channel": message.channel,
            "send_kind": message.kind,
            "send_topic": message.topic,
            "decision": message.decision_id,
        },
    )
    return rows.first() is not None


def mark_final(session: Session, message: Claimed, *, state: OutboxState, error: str) -> bool:
    """``failed``, ``bounced`` or ``held``, with the reason."""
    return _settle(
        session, message, state=state.value, claim_token=None, last_error=error[:ERROR_LENGTH]
    )


def requeue(
    session: Session,
    message: Claimed,
    *,
    at: datetime,
    error: str | None,
    counts_as_attempt: bool = True,
) -> bool:
    """Back to ``queued`` until ``at``. A message that was never tried (the batch stopped
    before it, the policy deferred it) gets its attempt back."""
    values: dict[str, object] = {
        "state": OutboxState.queued.value,
        "next_attempt_at": at,
        "claim_token": None,
        "claimed_at": None,
    }
    if error is not None:
        values["last_error"] = error[:ERROR_LENGTH]
    if not counts_as_attempt:
        values["attempts"] = MESSAGES.c.attempts - 1
    return _settle(session, message, **values)


def renew(session: Session, *, token: str, at: datetime) -> set[int]:
    """Move the claim time of this sender's messages still ``sending`` to ``at``: the lease
    starts again (a heartbeat for a batch that takes long). The ids of those messages: one
    whose lease ran out and that another sender took over is not among them."""
    rows = session.connection().execute(
        update(MESSAGES)
        .where(MESSAGES.c.claim_token == token, MESSAGES.c.state == OutboxState.sending.value)
        .values(claimed_at=at)
        .returning(MESSAGES.c.id)
    )
    return set(rows.scalars())


def release(session: Session, messages: Sequence[Claimed], *, now: datetime) -> None:
    """Give back messages this sender claimed but never tried."""
    for message in messages:
        requeue(session, message, at=now, error=None, counts_as_attempt=False)
