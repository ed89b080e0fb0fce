"""Chunks of parsed events handed from the importer's parsing workers to its storing process
as small SQLite files, one per chunk.

Passing parsed events between processes as Python objects cost the storing process more than
storing them: unpickling a chunk, then rebuilding its messages, took ~0.75 s of 2.2 s per
200,000 events. A worker instead writes its chunk's valid messages to a file of its own
(no journal, no sync: if the import stops, the chunk is parsed again). On SQLite the storing
process attaches that file and copies the rows into ``event`` with one INSERT ... SELECT, in C,
never building a Python object per event (tillit.events.ingest.store_staged; the writer,
tillit.storage.writer, attaches it); on PostgreSQL, or to look resends up, it reads the
messages back (``read``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tillit.events.spec import TYPES, JsonText, Message
from tillit.vocabulary import SourceChannel

# Attached as "staged", the table is "staged.chunk" (tillit.events.repository.INSERT_STAGED).
CREATE = (
    "CREATE TABLE chunk (message_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT, "
    "channel TEXT NOT NULL, anonymous_id TEXT, user_id TEXT, timestamp TEXT NOT NULL, "
    "payload TEXT NOT NULL)"
)
CHANNELS = {str(c): c for c in SourceChannel}


def write(
    path: Path, messages: Iterable[Message], bind_timestamp: Callable[[datetime], Any] | None
) -> int:
    """Writes ``messages`` to a new file at ``path``; returns how many. The timestamp is
    stored as the target database binds it when that is text (SQLite), so that INSERT ...
    SELECT copies it as it is; otherwise as ISO 8601 text."""
    rows = [
        (
            m.message_id,
            str(m.type),
            m.name,
            str(m.channel),
            m.anonymous_id,
            m.user_id,
            m.timestamp.isoformat() if bind_timestamp is None else bind_timestamp(m.timestamp),
            m.raw_json,
        )
        for m in messages
    ]
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        # A scratch file read once: a crash mid-write only means the chunk is parsed again.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(CREATE)
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO chunk VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        connection.execute("COMMIT")
    return len(rows)


def read(path: Path, *, bound: bool) -> tuple[list[Message], list[str] | None]:
    """The messages of a file ``write`` made, in their order. ``bound``: the timestamps were
    written bound for SQLite (see ``write``), and come back as such too, to be stored as they
    are (else None)."""
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT * FROM chunk ORDER BY rowid").fetchall()
    messages = [
        Message(
            message_id,
            TYPES[kind],
            name,
            CHANNELS[channel],
            anonymous_id,
            user_id,
            _utc(datetime.fromisoformat(timestamp)),
            JsonText(payload),
            payload,
        )
        for message_id, kind, name, channel, anonymous_id, user_id, timestamp, payload in rows
    ]
    return messages, [row[6] for row in rows] if bound else None


def _utc(value: datetime) -> datetime:
    """SQLite's bound form has no offset: it is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
