"""Putting messages in the outbox and counting them: what planners (campaigns, dialogues)
call. Sending is :mod:`tillit.outbox.delivery`'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from tillit.errors import FieldError, InvalidInput
from tillit.outbox.models import OutboxMessage, OutboxState
from tillit.storage.base import utcnow
from tillit.storage.upsert import upsert
from tillit.vocabulary import MessageKind, OutboundChannel

MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
CHUNK = 500  # rows per INSERT: far below either database's limit on bound parameters


@dataclass(frozen=True)
class Outgoing:
    """One message to send. Its text is final: personal fields are already filled in."""

    customer_id: int
    channel: OutboundChannel
    kind: MessageKind
    topic: str | None
    purpose_key: str | None
    language: str
    subject: str
    body: str  # plain text
    not_before: datetime  # aware; never sent earlier
    source: str  # who planned it, e.g. "campaign:spring-sale"
    dedupe_key: str  # unique: enqueueing the same key twice queues one message
    decision_id: int | None = None  # the contact_decision row behind it, if any


def _check(message: Outgoing, index: int) -> list[FieldError]:
    errors = []
    where = f"messages[{index}]"
    if message.not_before.utcoffset() is None:
        errors.append(FieldError(f"{where}.not_before", "needs a time zone"))
    if not message.dedupe_key or len(message.dedupe_key) > 200:
        errors.append(FieldError(f"{where}.dedupe_key", "1 to 200 characters"))
    if not message.source or len(message.source) > 200:
        errors.append(FieldError(f"{where}.source", "1 to 200 characters"))
    try:
        OutboundChannel(message.channel)
        MessageKind(message.kind)
    except ValueError:
        errors.append(FieldError(f"{where}.channel", "an outbound channel and a message kind"))
    return errors


def enqueue(session: Session, messages: Sequence[Outgoing]) -> int:
    """Queue ``messages``; returns how many were new. A dedupe key already in the outbox (in
    this call, an earlier one or a concurrent one) is skipped, whatever its state: a planner
    may run twice and queue each message once. The caller commits."""
    errors = [error for index, message in enumerate(messages) for error in _check(message, index)]
    if errors:
        raise InvalidInput(errors)
    now = utcnow()
    rows = {
        message.dedupe_key: {
            "customer_id": message.customer_id,
            "channel": str(message.channel),
            "kind": str(message.kind),
            "topic": message.topic,
            "purpose_key": message.purpose_key,
            "language": message.language,
            "subject": message.subject,
            "body": message.body,
            "source": message.source,
            "dedupe_key": message.dedupe_key,
            "decision_id": message.decision_id,
            "state": OutboxState.queued.value,
            "not_before": message.not_before,
            "next_attempt_at": message.not_before,
            "attempts": 0,
            "created_at": now,
        }
        for message in messages
    }
    batch = list(rows.values())
    added = 0
    for start in range(0, len(batch), CHUNK):
        # RETURNING names the rows inserted, on both databases (rowcount does not on psycopg).
        inserted = session.execute(
            upsert(session, MESSAGES)
            .values(batch[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(MESSAGES.c.id)
        )
        added += len(inserted.all())
    return added


def states_by_source(session: Session, source: str) -> dict[str, int]:
    """How many of ``source``'s messages are in each state (every state named, zeros too)."""
    counts = dict.fromkeys((state.value for state in OutboxState), 0)
    rows = session.execute(
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.source == source)
        .group_by(OutboxMessage.state)
    )
    for state, count in rows:
        counts[str(state)] = int(count)
    return counts


def state_counts(session: Session) -> dict[str, dict[str, int]]:
    """Every source's counts per state, for ``tillit outbox status``."""
    found: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(OutboxMessage.source, OutboxMessage.state, func.count())
        .group_by(OutboxMessage.source, OutboxMessage.state)
        .order_by(OutboxMessage.source)
    )
    for source, state, count in rows:
        counts = found.setdefault(source, dict.fromkeys((s.value for s in OutboxState), 0))
        counts[str(state)] = int(count)
    return found
