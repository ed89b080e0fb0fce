"""Bulk import of event files (JSON Lines or CSV) through the same validation and storage as the
tracking API. Each chunk and the checkpoint (last line done) commit together, so a stopped import
resumes where it stopped, and a re-run of a finished file stores nothing twice (messageId).

CSV columns: type, userId, anonymousId, event, name, messageId, timestamp, groupId, previousId,
and ``properties.<key>``, ``traits.<key>``, ``context.<key>`` for nested values.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.cores import available_cores
from tillit.customers.service import Defaults
from tillit.events import hooks, ingest, staging
from tillit.events.models import Channel, ImportCheckpoint, Source
from tillit.events.spec import Message
from tillit.identity.resolve import Key, Link, links_for
from tillit.identity.rules import IdentityRules
from tillit.storage.base import utcnow
from tillit.storage.bulk import bind_processor
from tillit.storage.session import SessionFactory

CHUNK_LINES = 10_000
NESTED = ("properties", "traits", "context")
# Below this a worker process costs more to start than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
YOUNG_GENERATION = 200_000  # objects; see _few_collections


class NotJson(str):
    """A line that did not decode, as the reason why (a JSON string literal is not this)."""


@dataclass
class FileImportReport:
    accepted: int = 0
    duplicates: int = 0
    resumed_from: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def file_key(path: Path) -> str:
    """Identifies a file by name, size and first 64 KiB, so a resume finds its checkpoint."""
    digest = hashlib.sha256(f"{path.name}:{path.stat().st_size}:".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(65536))
    return digest.hexdigest()


def _csv_chunks(path: Path, size: int, after: int) -> Iterator[list[tuple[int, Any]]]:
    """CSV rows as messages, (line number, dict), in lists of ``size``, from the line after
    ``after`` (a resumed import does not parse again what it stored before)."""
    chunk: list[tuple[int, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if reader.line_num > after:
                chunk.append((reader.line_num, _from_csv(row)))
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def import_file(
    *,
    sessions: SessionFactory,
    path: Path,
    source: Source,
    rules: IdentityRules,
    defaults: Defaults,
    progress: Callable[[int], None] | None = None,
    rejected: Callable[[list[tuple[int, str]]], None] | None = None,
    workers: int | None = None,
) -> FileImportReport:
    """Import ``path`` chunk by chunk, each chunk committed with the checkpoint.

    Parsing (JSON, validation, the identity links of each message) is pure and CPU-bound,
    while storing is one writer. A JSON Lines file of PARALLEL_MIN_BYTES or more is parsed by
    ``workers`` processes (default: as many as there are cores) a few chunks ahead of the store;
    chunks are still stored, checkpointed and reported strictly in file order.

    After each chunk is committed, ``progress`` gets its number of lines and ``rejected`` its
    rejected lines (line number, reason), so that a rejects file keeps up with the checkpoint.
    """
    key = file_key(path)
    with sessions() as session:
        checkpoint = session.get(ImportCheckpoint, key)
        done = checkpoint.last_line if checkpoint else 0
    report = FileImportReport(resumed_from=done)
    actor = Actor.system(f"import {path.name}")
    with _few_collections():
        dialect = sessions.kw["bind"].dialect
        # SQLite stores the timestamp as text: the workers bind it (see staging.write).
        binder = (
            bind_processor(dialect, ingest.EVENTS.c.timestamp) if dialect.name == "sqlite" else None
        )
        chunks = _parsed_chunks(
            path, done, source.channel, rules, defaults.country, workers, binder
        )
        assume_new = True  # until a chunk turns out to repeat stored events (a re-import)
        for parsed in chunks:
            if not parsed.lines:
                continue  # only blank lines
            store = partial(_store_chunk, sessions, key, path, source, parsed, rules, defaults)
            try:
                store(actor, report, assume_new=assume_new)
            except ingest.ResendsFound:  # rolled back: store it again, looking resends up
                assume_new = False
                store(actor, report, assume_new=False)
            if parsed.staged:
                parsed.staged.path.unlink()
            if rejected and parsed.rejected:
                rejected(parsed.rejected)
            if progress:
                progress(len(parsed.lines))
    return report


@contextmanager
def _few_collections() -> Iterator[None]:
    """A chunk holds ~10 objects a line until it is stored. At the default threshold (700
    allocations) most of them survive a young collection, are promoted and scanned again by
    the older ones: ~20% of the import's time. A young generation larger than a chunk lets
    them die young. Restored afterwards (the setting is process-wide)."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@dataclass
class Staged:
    """A worker's parsed chunk, its messages in a staging file (tillit.events.staging)."""

    path: Path
    count: int
    keys: list[Key]  # ingest.event_keys of its messages


@dataclass
class ParsedChunk:
    """A chunk's lines after parsing: what the store needs, nothing that touches a database."""

    lines: list[int]
    received_at: datetime
    # The valid ones, each messageId once, with their place among them (or: ``staged``).
    messages: list[tuple[int, Message]]
    links: list[Link]  # links_for(messages); valid as long as no message is a resend
    rejected: list[tuple[int, str]]  # (line number, reason)
    repeats: list[str]  # messageIds that came again later in the chunk, not kept again
    staged: Staged | None = None  # parsed by a worker: the messages are in this file


def parse_chunk(
    chunk: list[tuple[int, Any]],
    *,
    channel: Channel,
    received_at: datetime,
    rules: IdentityRules,
    default_country: str,
) -> ParsedChunk:
    """Parse one chunk of (line number, decoded item, or raw JSON line as bytes)."""
    lines = [number for number, _ in chunk]
    items = [_decoded(item) for _, item in chunk]
    messages, rejected = ingest.parse_all(
        items, type_=None, channel=channel, received_at=received_at
    )
    # parse_all says "must be a JSON object" of a line that was not JSON; say why it was not.
    reasons = [
        (lines[r.index], str(items[r.index]) if isinstance(items[r.index], NotJson) else r.reason)
        for r in rejected
    ]
    repeats: list[str] = []
    fresh = ingest.without_repeats(messages, repeats)
    links = links_for(fresh, rules=rules, default_country=default_country)
    return ParsedChunk(lines, received_at, list(enumerate(fresh)), links, reasons, repeats)


def _decoded(item: Any) -> Any:
    if not isinstance(item, bytes):
        return item
    try:
        return orjson.loads(item)
    except orjson.JSONDecodeError as error:
        return NotJson(f"not JSON: {error}")


def _parsed_chunks(
    path: Path,
    after: int,
    channel: Channel,
    rules: IdentityRules,
    country: str,
    workers: int | None,
    bind_timestamp: Callable[[datetime], Any] | None,
) -> Iterator[ParsedChunk]:
    count = _worker_count(path, workers)
    if count == 0:
        if path.suffix.lower() == ".csv":
            chunks = _csv_chunks(path, CHUNK_LINES, after)
        else:
            chunks = (_numbered(*block) for block in _line_blocks(path, CHUNK_LINES, after))
        for chunk in chunks:
            yield parse_chunk(
                chunk,
                channel=channel,
                received_at=utcnow(),
                rules=rules,
                default_country=country,
            )
        return
    # fork: the workers start at once with the modules already imported and the rules as
    # they are here (nothing is pickled but chunks and results). They run only the pure
    # functions above and write their own staging files; they never touch the parent's
    # database connections or threads.
    context = multiprocessing.get_context("fork")
    with (
        tempfile.TemporaryDirectory(prefix="tillit-import-") as scratch,
        ProcessPoolExecutor(
            count,
            mp_context=context,
            initializer=_start_worker,
            initargs=(rules, country, channel, bind_timestamp),
        ) as pool,
    ):
        pending: deque[Future[ParsedChunk]] = deque()
        for first, block in _line_blocks(path, CHUNK_LINES, after):
            staged = Path(scratch) / f"lines-{first}.db"
            pending.append(pool.submit(_parse_in_worker, first, block, utcnow(), staged))
            if len(pending) > 2 * count:  # enough read ahead to keep every worker busy
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _worker_count(path: Path, workers: int | None) -> int:
    if path.suffix.lower() == ".csv" or "fork" not in multiprocessing.get_all_start_methods():
        return 0  # CSV rows are cheap to parse; the workers take JSON Lines
    if workers is not None:
        return max(0, workers)
    if path.stat().st_size < PARALLEL_MIN_BYTES:
        return 0
    # As many as the cores, not one fewer: the storing process copies each worker's staging
    # file in C and waits on the workers a third of the time. On 2 cores, 200,000 events:
    # 95-97k events/s with one worker, 109-117k with two.
    return available_cores()


def _line_blocks(path: Path, size: int, after: int) -> Iterator[tuple[int, list[bytes]]]:
    """(first line number, the next ``size`` lines as bytes) after line ``after``. With
    workers the main process only cuts the file; they number, skip blank lines and decode."""
    with path.open("rb") as handle:
        for _ in islice(handle, after):
            pass
        number = after
        while block := list(islice(handle, size)):
            yield number + 1, block
            number += len(block)


def _numbered(first: int, block: list[bytes]) -> list[tuple[int, bytes]]:
    """A block's lines that are not blank, with their line numbers."""
    return [(first + i, line) for i, line in enumerate(block) if line.strip()]


_WORKER: dict[str, Any] = {}


def _start_worker(
    rules: IdentityRules,
    country: str,
    channel: Channel,
    bind_timestamp: Callable[[datetime], Any] | None,
) -> None:
    gc.set_threshold(YOUNG_GENERATION, *gc.get_threshold()[1:])  # as in _few_collections
    _WORKER.update(rules=rules, country=country, channel=channel, bind=bind_timestamp)


def _parse_in_worker(
    first: int, block: list[bytes], received_at: datetime, staged: Path
) -> ParsedChunk:
    """parse_chunk, with the messages written to ``staged`` rather than sent back: what
    crosses the process boundary is small (line numbers, links, rejections)."""
    parsed = parse_chunk(
        _numbered(first, block),
        channel=_WORKER["channel"],
        received_at=received_at,
        rules=_WORKER["rules"],
        default_country=_WORKER["country"],
    )
    if parsed.messages:
        fresh = [m for _, m in parsed.messages]
        count = staging.write(staged, fresh, _WORKER["bind"])
        parsed.staged = Staged(staged, count, sorted(ingest.event_keys(fresh)))
        parsed.messages = []
    return parsed


def _store_chunk(
    sessions: SessionFactory,
    key: str,
    path: Path,
    source: Source,
    parsed: ParsedChunk,
    rules: IdentityRules,
    defaults: Defaults,
    actor: Actor,
    report: FileImportReport,
    *,
    assume_new: bool,
) -> None:
    """``assume_new``: see ``ingest.store``; ``ResendsFound`` leaves nothing stored."""
    staged = parsed.staged
    sqlite = sessions.kw["bind"].dialect.name == "sqlite"
    copy = staged is not None and assume_new and sqlite  # ingest.store_staged
    with (
        _session(sessions, staged.path if copy and staged else None) as session,
        session.begin(),
    ):
        session.add(source)
        accepted, duplicates = 0, len(parsed.repeats)
        wanted = hooks.wanted(session)
        before = hooks.newest_event_id(session) if copy and wanted else 0
        if copy and staged:
            accepted = ingest.store_staged(
                session=session,
                source_id=source.id,
                source_name=source.name,
                count=staged.count,
                keys=staged.keys,
                links=parsed.links,
                received_at=parsed.received_at,
                rules=rules,
                defaults=defaults,
                actor=actor,
            )
            stored = hooks.stored_since(
                session,
                source_id=source.id,
                received_at=parsed.received_at,
                after_id=before,
                names=wanted,
            )
            hooks.after_store(session, stored)  # the copy made no Python object per event
        elif messages := (
            parsed.messages
            if staged is None
            else list(enumerate(staging.read(staged.path, bound=sqlite)))
        ):
            result = ingest.store(
                session=session,
                source_id=source.id,
                source_name=source.name,
                messages=messages,
                received_at=parsed.received_at,
                rules=rules,
                defaults=defaults,
                actor=actor,
                links=parsed.links,
                assume_new=assume_new,
            )
            accepted, duplicates = len(result.accepted), duplicates + len(result.duplicates)
            hooks.after_store(
                session,
                [
                    hooks.StoredEvent(customer_id, message.type, message.name, message.timestamp)
                    for message, customer_id in result.stored
                    if message.name in wanted
                ],
            )
        checkpoint = session.get(ImportCheckpoint, key) or ImportCheckpoint(
            file_key=key, file_name=str(path)[:500], accepted=0, rejected=0, duplicates=0
        )
        checkpoint.last_line = parsed.lines[-1]
        checkpoint.accepted += accepted
        checkpoint.rejected += len(parsed.rejected)
        checkpoint.duplicates += duplicates
        session.add(checkpoint)
    report.accepted += accepted
    report.duplicates += duplicates
    report.rejected.extend(parsed.rejected)


@contextmanager
def _session(sessions: SessionFactory, staged: Path | None) -> Iterator[Session]:
    """A session; with ``staged``, on a connection that has that file attached."""
    if staged is None:
        with sessions() as session:
            yield session
        return
    with (
        sessions.kw["bind"].connect() as connection,
        staging.attached(connection.connection.driver_connection, staged),
        sessions(bind=connection) as session,
    ):
        yield session


def _from_csv(row: dict[str | None, str | None]) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        prefix, dot, rest = column.partition(".")
        if dot and prefix in NESTED:
            message.setdefault(prefix, {})[rest] = value
        else:
            message[column] = value
    return message


def write_rejects(path: Path, rejected: list[tuple[int, str]]) -> None:
    with path.open("ab") as handle:  # appended: a resumed import adds to the first run's list
        for line, reason in rejected:
            handle.write(orjson.dumps({"line": line, "reason": reason}) + b"\n")
