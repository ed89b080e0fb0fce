"""The hand-written SQL of events' own tables (``event``, ``event_source``), run through
tillit.storage.bulk.Bulk on the hot paths where SQLAlchemy's compiler and per-value type
processing cost more than the statement: the tracking API and the importer store through these.

Templates are module constants, never input: ``{p}`` a parameter, ``{in_list}`` an ``IN``
list given as one ``Bulk.list_param``, ``{json}`` a JSON document given as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.events.models import Event, EventType
from tillit.storage.bulk import Bulk, lookups

CHUNK = 2000
RESENDS = "SELECT message_id FROM event WHERE source_id = {p} AND message_id {in_list}"
INSERT = (
    "INSERT INTO event (source_id, message_id, type, name, channel, anonymous_id, user_id, "
    "customer_id, timestamp, received_at, payload) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {json}) ON CONFLICT DO NOTHING"
)
# A staged chunk's owners (see copy_staged), in the connection's own temporary schema.
STAGED_OWNERS = (
    "CREATE TEMP TABLE import_owner (kind TEXT NOT NULL, value TEXT NOT NULL, "
    "customer_id INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID"
)
# In the staging file's order (its rowid), so ids follow the file as with INSERT. The staged
# table is the outer loop of its LEFT JOINs, each a primary-key look-up. "WHERE true": SQLite
# reads ON CONFLICT after a bare FROM ... JOIN as the join's constraint.
INSERT_STAGED = (
    "INSERT INTO event (source_id, message_id, type, name, channel, anonymous_id, user_id, "
    "customer_id, timestamp, received_at, payload) "
    "SELECT {p}, s.message_id, s.type, s.name, s.channel, s.anonymous_id, s.user_id, "
    "coalesce(u.customer_id, a.customer_id), s.timestamp, {p}, s.payload "
    "FROM staged.chunk AS s "  # tillit.events.staging's schema and table
    "LEFT JOIN temp.import_owner AS u ON u.kind = 'user_id' AND u.value = s.user_id "
    "LEFT JOIN temp.import_owner AS a ON a.kind = 'anonymous_id' AND a.value = s.anonymous_id "
    "WHERE true ORDER BY s.rowid ON CONFLICT DO NOTHING"
)
# Unattributed events of user ids, and anonymous events (no user id) of anonymous ids: no event
# is found by both. Each condition is word for word that of a partial index on ``event``
# (ix_event_unowned_user, ix_event_unowned_anonymous), which holds only such events: the
# databases use a partial index only for a query whose conditions include the index's own.
UNOWNED_EVENTS = {
    "user_id": "SELECT 'user_id', user_id, id FROM event "
    "WHERE customer_id IS NULL AND user_id IS NOT NULL AND user_id {in_list}",
    "anonymous_id": "SELECT 'anonymous_id', anonymous_id, id FROM event "
    "WHERE customer_id IS NULL AND user_id IS NULL AND anonymous_id {in_list}",
}
ATTRIBUTE = "UPDATE event SET customer_id = {p} WHERE id = {p}"
SOURCE_BY_KEY = "SELECT id, name, channel, active FROM event_source WHERE write_key_hash = {p}"


def stored_ids(bulk: Bulk, source_id: int, message_ids: Iterable[str]) -> set[str]:
    """Which of ``message_ids`` the source has stored already."""
    seen: set[str] = set()
    ids = list(message_ids)
    for start in range(0, len(ids), CHUNK):
        rows = bulk.rows(RESENDS, (source_id, bulk.list_param(ids[start : start + CHUNK])))
        seen.update(message_id for (message_id,) in rows)
    return seen


def insert(bulk: Bulk, rows: list[tuple[Any, ...]]) -> int:
    """One executemany of rows in INSERT's column order, values as the driver takes them;
    returns how many were stored (ON CONFLICT DO NOTHING: a resend racing this batch in
    another transaction is no error, only not counted)."""
    return bulk.many(INSERT, rows)


def copy_staged(
    bulk: Bulk, source_id: int, received_at: Any, owners: list[tuple[str, str, int]]
) -> int:
    """Copies the chunk of the attached staging file into ``event``, each row with the owner
    of its user id, else of its anonymous id, among ``owners`` (kind, value, customer id);
    ``received_at`` as the driver takes it. Returns the rows stored."""
    bulk.execute(STAGED_OWNERS)
    bulk.many("INSERT INTO temp.import_owner VALUES ({p}, {p}, {p})", owners)
    inserted = bulk.execute(INSERT_STAGED, (source_id, received_at))
    bulk.execute("DROP TABLE temp.import_owner")
    return inserted


def attribute_unowned(bulk: Bulk, owners: Mapping[tuple[str, str], int]) -> None:
    """Earlier events of these identifiers that nobody owned yet now belong to their owner."""
    wanted: dict[str, list[str]] = {}
    for kind, value in sorted(owners):
        if kind in UNOWNED_EVENTS:
            wanted.setdefault(kind, []).append(value)
    moves = [
        (owners[(kind, value)], event_id)
        for kind, value, event_id in lookups(bulk, UNOWNED_EVENTS, wanted, typed=False)
    ]
    bulk.many(ATTRIBUTE, moves)


def source_row(bulk: Bulk, write_key_hash: str) -> tuple[Any, ...] | None:
    """(id, name, channel, active) of the source with this write key hash."""
    rows = bulk.rows(SOURCE_BY_KEY, (write_key_hash,))
    return rows[0] if rows else None


def owners_of(session: Session, source_id: int, message_ids: list[str]) -> list[int]:
    """The people the source's events with these messageIds belong to, each once, in order."""
    owners = session.scalars(
        select(Event.customer_id).where(
            Event.source_id == source_id,
            Event.message_id.in_(message_ids),
            Event.customer_id.is_not(None),
        )
    )
    return sorted({c for c in owners if c is not None})


def tracked_since(
    session: Session,
    *,
    source_id: int,
    received_at: datetime,
    after_id: int,
    names: frozenset[str],
) -> list[tuple[int | None, EventType, str | None, datetime]]:
    """(customer, type, name, timestamp) of the tracked events with one of ``names`` that a
    bulk copy just stored: the batch's own source, receipt time and ids (an id range alone
    could take in another writer's)."""
    if not names:
        return []
    rows = session.execute(
        select(Event.customer_id, Event.type, Event.name, Event.timestamp, Event.payload)
        .where(
            Event.id > after_id,
            Event.source_id == source_id,
            Event.received_at == received_at,
            Event.type == EventType.track,
            Event.name.in_(names),
        )
        .order_by(Event.id)
    )
    return [tuple(row) for row in rows]


def newest_event_id(session: Session) -> int:
    return session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0
