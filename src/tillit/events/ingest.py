"""Storing a batch of tracking messages: validate each, drop resends, resolve people, insert.

The whole batch is one transaction and one ``executemany`` INSERT, so a 2xx from the API means
every accepted message is committed, and none is stored twice: the unique (source, messageId)
constraint with ``ON CONFLICT DO NOTHING`` catches even two concurrent resends. The resend check
and the insert are plain DBAPI statements (tillit.events.repository): with SQLAlchemy's compiler
and per-value type processing they cost more than the rest of the batch. Callers go through
tillit.events.tracking.receive_batch, which also runs what other areas do after a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.customers.service import Defaults
from tillit.events import repository
from tillit.events.spec import InvalidMessage, Message, parse_message
from tillit.identity.resolve import Key, Link, Resolver, links_for
from tillit.identity.rules import IdentityRules
from tillit.storage.bulk import Bulk
from tillit.vocabulary import SourceChannel


class ResendsFound(Exception):
    """``store(assume_new=True)`` met a message already stored: its caller rolls back and
    stores the batch again with the resend check."""


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
    # The accepted messages with the person each was attributed to, as inserted.
    stored: list[tuple[Message, int | None]] = field(default_factory=list)
    copied: int = 0  # stored by store_staged's copy, which names no messages

    @property
    def stored_count(self) -> int:
        return len(self.accepted) + self.copied


def parse_all(
    items: Sequence[object],
    *,
    type_: str | None,
    channel: SourceChannel,
    received_at: datetime,
    sent_at: datetime | None = None,
    may_hold_nul: bool = True,
) -> tuple[list[tuple[int, Message]], list[Rejection]]:
    """The valid messages (with their index in ``items``) and a rejection for each other one.
    ``may_hold_nul``: see ``parse_message``."""
    messages: list[tuple[int, Message]] = []
    rejected: list[Rejection] = []
    for index, raw in enumerate(items):
        try:
            message = parse_message(
                raw,
                type_=type_,
                default_channel=channel,
                received_at=received_at,
                batch_sent_at=sent_at,
                may_hold_nul=may_hold_nul,
            )
        except InvalidMessage as error:
            rejected.append(Rejection(index, _given_id(raw), str(error)))
        else:
            messages.append((index, message))
    return messages, rejected


def _given_id(raw: object) -> str | None:
    """The messageId of a rejected message as the sender will look for it (an integer id as
    its decimal text, as a valid one is stored)."""
    given = raw.get("messageId") if isinstance(raw, dict) else None
    if isinstance(given, int) and not isinstance(given, bool):
        return str(given)
    return given if isinstance(given, str) else None


def store(
    *,
    session: Session,
    source_id: int,
    source_name: str,
    messages: list[tuple[int, Message]],
    received_at: datetime,
    rules: IdentityRules,
    defaults: Defaults,
    actor: Actor,
    bind_timestamp: Callable[[datetime], Any],
    links: list[Link] | None = None,
    timestamps: Sequence[Any] | None = None,
    assume_new: bool = False,
) -> IngestResult:
    """``bind_timestamp``: the writer's (tillit.storage.writer). ``timestamps``: the
    messages' timestamps already bound so (the API binds them before the write), in the order
    of ``messages``.

    ``links``: ``links_for`` of all ``messages``, when the caller made them already (the
    importer does, in its parsing workers). They stand only if no message turns out to be a
    resend: links_for leaves out a link it has seen, and the one it kept may be the resend's.

    ``assume_new``: skip the look-up of already stored messageIds (for a bulk import, where
    resends are rare and the look-up of 10,000 ids costs a tenth of storing them). The insert
    then tells: if it stored fewer rows than it was given, ``ResendsFound`` is raised, and the
    caller must roll the transaction back and call again without ``assume_new``."""
    result = IngestResult()
    resolver = Resolver(
        session=session,
        rules=rules,
        defaults=defaults,
        actor=actor,
        source_name=f"source:{source_name}",
    )
    bulk = resolver.bulk
    seen = set() if assume_new else repository.stored_ids(bulk, source_id, _ids(messages))
    kept = _kept(messages, result.duplicates, seen)
    fresh = [messages[at][1] for at in kept]
    if links is None or result.duplicates:
        links = links_for(fresh, rules=rules, default_country=defaults.country)
    _resolve(resolver, links, event_keys(fresh))
    result.stored = [(m, resolver.attribute(m)) for m in fresh]
    when = (
        [bind_timestamp(m.timestamp) for m in fresh]
        if timestamps is None
        else [timestamps[at] for at in kept]
    )
    inserted = _insert(bulk, source_id, bind_timestamp(received_at), result.stored, when)
    if assume_new and inserted != len(result.stored):
        raise ResendsFound(f"{len(result.stored) - inserted} of the messages were stored before")
    result.accepted = [m.message_id for m in fresh]
    result.merges = resolver.merges
    return result


def event_keys(messages: Iterable[Message]) -> set[Key]:
    """The identifiers ``Resolver.attribute`` looks the messages' people up by."""
    keys = {("user_id", m.user_id) for m in messages if m.user_id}
    return keys | {("anonymous_id", m.anonymous_id) for m in messages if m.anonymous_id}


def _resolve(resolver: Resolver, links: list[Link], keys: Iterable[Key]) -> None:
    """Applies the links, so that ``resolver.owners`` holds the owner of every identifier in
    ``keys`` that has one, with every new person inserted."""
    resolver.prefetch({key for link in links for key in link.keys}.union(keys))
    # Identify calls update traits: load those people's profiles at once, not one by one.
    resolver.prefetch_profiles(
        resolver.owners[link.keys[0]]
        for link in links
        if link.traits and link.keys[0] in resolver.owners
    )
    for link in links:
        resolver.apply(link)
    repository.attribute_unowned(resolver.bulk, resolver.settle())


def store_staged(
    *,
    session: Session,
    source_id: int,
    source_name: str,
    count: int,
    keys: list[Key],
    links: list[Link],
    received_at: datetime,
    rules: IdentityRules,
    defaults: Defaults,
    actor: Actor,
    bind_timestamp: Callable[[datetime], Any],
) -> int:
    """``store(assume_new=True)`` of the ``count`` messages of a staging file attached to the
    session's SQLite connection (tillit.events.staging), without a Python object per event:
    the people are resolved from the worker's ``links`` and ``keys`` (``event_keys`` of the
    messages), their owners go into a temporary table, and one INSERT ... SELECT copies the
    rows with each one's person, as ``Resolver.attribute`` would choose. The messages must
    hold no messageId twice. Returns ``count``; raises ``ResendsFound`` as ``store`` does."""
    resolver = Resolver(
        session=session,
        rules=rules,
        defaults=defaults,
        actor=actor,
        source_name=f"source:{source_name}",
    )
    _resolve(resolver, links, keys)
    bulk = resolver.bulk
    owned = resolver.owners
    owners = [(kind, value, owned[(kind, value)]) for kind, value in keys if (kind, value) in owned]
    inserted = repository.copy_staged(bulk, source_id, bind_timestamp(received_at), owners)
    if inserted != count:
        raise ResendsFound(f"{count - inserted} of the messages were stored before")
    return inserted


def _ids(messages: list[tuple[int, Message]]) -> list[str]:
    return list({m.message_id: None for _, m in messages})


def _kept(messages: list[tuple[int, Message]], duplicates: list[str], seen: set[str]) -> list[int]:
    """The places in ``messages`` of those whose id is neither in ``seen`` nor earlier in the
    batch; the ids of the others are added to ``duplicates``."""
    kept = []
    for at, (_, message) in enumerate(messages):
        if message.message_id in seen:
            duplicates.append(message.message_id)
        else:
            seen.add(message.message_id)
            kept.append(at)
    return kept


def without_repeats(messages: list[tuple[int, Message]], duplicates: list[str]) -> list[Message]:
    """The messages whose id is not earlier in the batch; the ids of the others are added to
    ``duplicates``."""
    return [messages[at][1] for at in _kept(messages, duplicates, set())]


def _insert(
    bulk: Bulk,
    source_id: int,
    received: Any,
    stored: list[tuple[Message, int | None]],
    timestamps: list[Any],
) -> int:
    """One executemany of plain tuples: the datetimes already bound, the payload the JSON text
    parse_message made for the size check."""
    rows = [
        (
            source_id,
            m.message_id,
            str(m.type),
            m.name,
            str(m.channel),
            m.anonymous_id,
            m.user_id,
            customer_id,
            timestamp,
            received,
            m.raw_json,
        )
        for (m, customer_id), timestamp in zip(stored, timestamps, strict=True)
    ]
    return repository.insert(bulk, rows)
