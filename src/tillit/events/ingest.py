"""Storing a batch of tracking messages: validate each, drop resends, resolve people, insert.

The whole batch is one transaction and one multi-row INSERT (SQLAlchemy core executemany),
so a 2xx from the API means every accepted message is committed, and none is stored twice:
the unique (source, messageId) constraint catches even two concurrent resends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.customers.service import Defaults
from tillit.events.models import Channel, Event, Source
from tillit.events.spec import InvalidMessage, Message, parse_message
from tillit.identity.resolve import Resolver, link_for
from tillit.identity.rules import IdentityRules

CHUNK = 2000
EVENTS = cast(Table, Event.__table__)


@dataclass(frozen=True)
class Rejection:
    index: int
    message_id: str | None
    reason: str


@dataclass
class IngestResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    merges: int = 0


def parse_all(
    items: Sequence[object],
    *,
    type_: str | None,
    channel: Channel,
    received_at: datetime,
    sent_at: datetime | None = None,
    sizes: Sequence[int] | None = None,
) -> tuple[list[tuple[int, Message]], list[Rejection]]:
    messages: list[tuple[int, Message]] = []
    rejected: list[Rejection] = []
    for index, raw in enumerate(items):
        try:
            messages.append(
                (
                    index,
                    parse_message(
                        raw,
                        type_=type_,
                        default_channel=channel,
                        received_at=received_at,
                        batch_sent_at=sent_at,
                        size=sizes[index] if sizes else None,
                    ),
                )
            )
        except InvalidMessage as error:
            given = raw.get("messageId") if isinstance(raw, dict) else None
            rejected.append(Rejection(index, given if isinstance(given, str) else None, str(error)))
    return messages, rejected


def store(
    *,
    session: Session,
    source: Source,
    messages: list[tuple[int, Message]],
    received_at: datetime,
    rules: IdentityRules,
    defaults: Defaults,
    actor: Actor,
) -> IngestResult:
    result = IngestResult()
    fresh = _without_resends(session, source.id, messages, result)
    resolver = Resolver(
        session=session,
        rules=rules,
        defaults=defaults,
        actor=actor,
        source_name=f"source:{source.name}",
    )
    links = [link_for(m, rules=rules, default_country=defaults.country) for m in fresh]
    keys = {key for link in links if link for key in link.keys}
    keys |= {("user_id", m.user_id) for m in fresh if m.user_id}
    keys |= {("anonymous_id", m.anonymous_id) for m in fresh if m.anonymous_id}
    resolver.prefetch(keys)
    # Identify calls update traits: load those people's profiles at once, not one by one.
    resolver.prefetch_profiles(
        resolver.owners[link.keys[0]]
        for link in links
        if link is not None and link.traits and link.keys[0] in resolver.owners
    )
    applied: set[tuple[tuple[str, str], ...]] = set()
    for link in links:
        # A page of track calls from one signed-in user repeats one link: apply it once.
        if link is not None and (tuple(link.keys) not in applied or link.traits):
            resolver.apply(link)
            applied.add(tuple(link.keys))
    resolver.stitch()
    rows = [_row(m, source.id, received_at, resolver.attribute(m)) for m in fresh]
    for start in range(0, len(rows), CHUNK):
        session.execute(_insert(session), rows[start : start + CHUNK])
    result.accepted = [m.message_id for m in fresh]
    result.merges = resolver.merges
    return result


def _without_resends(
    session: Session, source_id: int, messages: list[tuple[int, Message]], result: IngestResult
) -> list[Message]:
    seen: set[str] = set()
    ids = list({m.message_id for _, m in messages})
    for start in range(0, len(ids), CHUNK):
        seen.update(
            session.scalars(
                select(Event.message_id).where(
                    Event.source_id == source_id, Event.message_id.in_(ids[start : start + CHUNK])
                )
            )
        )
    fresh = []
    for _, message in messages:
        if message.message_id in seen:
            result.duplicates.append(message.message_id)
        else:
            seen.add(message.message_id)
            fresh.append(message)
    return fresh


def _insert(session: Session) -> Any:
    # ON CONFLICT DO NOTHING: a resend racing this batch in another transaction is not an error.
    # The Core table, not the entity: the ORM's bulk-insert path costs more than the insert.
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(EVENTS).on_conflict_do_nothing()
    return sqlite.insert(EVENTS).on_conflict_do_nothing()


def _row(
    message: Message, source_id: int, received_at: datetime, customer_id: int | None
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "message_id": message.message_id,
        "type": str(message.type),
        "name": message.name,
        "channel": str(message.channel),
        "anonymous_id": message.anonymous_id,
        "user_id": message.user_id,
        "customer_id": customer_id,
        "timestamp": message.timestamp,
        "received_at": received_at,
        "payload": message.raw,
    }
