"""Receiving events: the one way in for the tracking API (/v1/*), the file importer and the
import API's jobs.

A face parses what it was sent into a ``Batch`` (``parse_batch`` for a request; the importer
parses chunks of a file, in worker processes when the file is large) and hands it to
``receive_batch``, which writes it as one unit of work through a ``Writer``
(tillit.storage.writer): resends dropped, people resolved (tillit.identity), the events
inserted, and then, in the same transaction, what other areas do when events are stored
(tillit.events.hooks: dialogue triggers) and the browser's Global Privacy Control signal.
So an ``Order Completed`` schedules its question however it arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.gpc import honour_gpc
from tillit.customers.service import Defaults
from tillit.events import hooks, ingest, repository, staging
from tillit.events.ingest import IngestResult, Rejection
from tillit.events.sources import SourceRef
from tillit.events.spec import Message
from tillit.identity.resolve import Key, Link, links_for
from tillit.identity.rules import IdentityRules
from tillit.storage.writer import Writer


@dataclass(frozen=True)
class Receiving:
    """Who receives a batch, and by which rules: the same for every batch of a request or
    a file."""

    source: SourceRef
    rules: IdentityRules
    defaults: Defaults
    actor: Actor


@dataclass
class Staged:
    """A batch whose messages a parsing worker wrote to a staging file (tillit.events.staging)
    rather than sending them back."""

    path: Path
    count: int
    keys: list[Key]  # ingest.event_keys of its messages
    bound: bool  # its timestamps were written as the writer binds them


@dataclass
class Batch:
    """Messages parsed and checked, ready to store; nothing in it has touched a database."""

    received_at: datetime
    # The valid ones with their place in what was sent (or: ``staged``).
    messages: list[tuple[int, Message]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    links: list[Link] | None = None  # links_for(messages), when made already
    timestamps: Sequence[Any] | None = None  # the messages' timestamps as the writer binds them
    staged: Staged | None = None

    @property
    def empty(self) -> bool:
        return not self.messages and not (self.staged and self.staged.count)


def parse_batch(
    items: Sequence[object],
    *,
    writer: Writer,
    receiving: Receiving,
    type_: str | None,
    received_at: datetime,
    sent_at: datetime | None = None,
    may_hold_nul: bool = True,
) -> Batch:
    """A request's messages checked, with everything that needs no write lock done now
    (identity links, timestamps bound), so that the writer has only the write left."""
    messages, rejected = ingest.parse_all(
        items,
        type_=type_,
        channel=receiving.source.channel,
        received_at=received_at,
        sent_at=sent_at,
        may_hold_nul=may_hold_nul,
    )
    if not messages:
        return Batch(received_at, rejected=rejected)
    links = links_for(
        (m for _, m in messages),
        rules=receiving.rules,
        default_country=receiving.defaults.country,
    )
    timestamps = [writer.bind_timestamp(m.timestamp) for _, m in messages]
    return Batch(received_at, messages, rejected, links, timestamps)


def receive_batch(
    writer: Writer,
    batch: Batch,
    receiving: Receiving,
    *,
    gpc: Evidence | None = None,
    assume_new: bool = False,
    also: Callable[[Session, IngestResult], None] | None = None,
) -> Future[IngestResult]:
    """Stores ``batch`` and runs the after-store hooks, in one transaction; the future is
    resolved once it is committed (``writer.submit``: the tracking API awaits it without
    blocking its event loop). ``gpc``: the request carried Global Privacy Control, with this
    evidence. ``assume_new``: see ``ingest.store`` (``ingest.ResendsFound`` comes out of the
    future, nothing stored). ``also``: more of the same unit of work, after the store (the
    importer's checkpoint). A batch with nothing to store and nothing ``also`` writes nothing."""
    if batch.empty and also is None:
        done: Future[IngestResult] = Future()
        done.set_result(IngestResult(rejected=batch.rejected))
        return done
    staged = batch.staged
    if staged is not None and assume_new and writer.attaches_files:
        # Copied in SQL from the attached file, no Python object per event (store_staged).
        work = partial(_copy_staged, writer, batch, staged, receiving, also)
        return _now(partial(writer.run, work, attach=staged.path))
    if staged is not None:  # read back: resends to look up, or no attaching (PostgreSQL)
        messages, timestamps = staging.read(staged.path, bound=staged.bound)
        batch.messages, batch.timestamps = list(enumerate(messages)), timestamps
    return writer.submit(partial(_store, writer, batch, receiving, gpc, assume_new, also))


def _store(
    writer: Writer,
    batch: Batch,
    receiving: Receiving,
    gpc: Evidence | None,
    assume_new: bool,
    also: Callable[[Session, IngestResult], None] | None,
    session: Session,
) -> IngestResult:
    source = receiving.source
    result = IngestResult()
    if batch.messages:
        result = ingest.store(
            session=session,
            source_id=source.id,
            source_name=source.name,
            messages=batch.messages,
            received_at=batch.received_at,
            rules=receiving.rules,
            defaults=receiving.defaults,
            actor=receiving.actor,
            bind_timestamp=writer.bind_timestamp,
            links=batch.links,
            timestamps=batch.timestamps,
            assume_new=assume_new,
        )
        wanted = hooks.wanted(session)
        hooks.after_store(
            session,
            [
                hooks.StoredEvent(
                    customer_id, message.type, message.name, message.timestamp, message.raw
                )
                for message, customer_id in result.stored
                if message.name in wanted
            ],
        )
        if gpc is not None:
            _honour_gpc(session, source.id, [*result.accepted, *result.duplicates], gpc)
    result.rejected = batch.rejected
    if also is not None:
        also(session, result)
    return result


def _copy_staged(
    writer: Writer,
    batch: Batch,
    staged: Staged,
    receiving: Receiving,
    also: Callable[[Session, IngestResult], None] | None,
    session: Session,
) -> IngestResult:
    source = receiving.source
    wanted = hooks.wanted(session)
    before = repository.newest_event_id(session) if wanted else 0
    copied = ingest.store_staged(
        session=session,
        source_id=source.id,
        source_name=source.name,
        count=staged.count,
        keys=staged.keys,
        links=batch.links or [],
        received_at=batch.received_at,
        rules=receiving.rules,
        defaults=receiving.defaults,
        actor=receiving.actor,
        bind_timestamp=writer.bind_timestamp,
    )
    # The copy made no Python object per event: read back only what a hook wants.
    stored = repository.tracked_since(
        session,
        source_id=source.id,
        received_at=batch.received_at,
        after_id=before,
        names=wanted,
    )
    hooks.after_store(session, [hooks.StoredEvent(*row) for row in stored])
    result = IngestResult(rejected=batch.rejected, copied=copied)
    if also is not None:
        also(session, result)
    return result


def _honour_gpc(session: Session, source_id: int, message_ids: list[str], gpc: Evidence) -> None:
    """Global Privacy Control from the person's browser: withdraw partner sharing for whoever
    these events belong to (see docs/consent.md for when an explicit choice wins)."""
    for customer_id in repository.owners_of(session, source_id, message_ids):
        honour_gpc(
            session=session,
            customer_id=customer_id,
            evidence=gpc,
            actor=Actor(type="customer", id=str(customer_id), label="GPC signal"),
        )


def _now(run: Callable[[], IngestResult]) -> Future[IngestResult]:
    """``run()``, now, in this thread, as a resolved future."""
    future: Future[IngestResult] = Future()
    try:
        future.set_result(run())
    except Exception as error:
        future.set_exception(error)
    return future
