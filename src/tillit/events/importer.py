"""Bulk import of event files (JSON Lines or CSV) through the same validation and storage as the
tracking API. Each chunk and the checkpoint (last line done) commit together, so a stopped import
resumes where it stopped, and a re-run of a finished file stores nothing twice (messageId).

CSV columns: type, userId, anonymousId, event, name, messageId, timestamp, groupId, previousId,
and ``properties.<key>``, ``traits.<key>``, ``context.<key>`` for nested values.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tillit.audit.service import Actor
from tillit.customers.service import Defaults
from tillit.events import ingest
from tillit.events.models import ImportCheckpoint, Source
from tillit.identity.rules import IdentityRules
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

CHUNK_LINES = 10_000
NESTED = ("properties", "traits", "context")


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


def read_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, message or error text), in file order."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, _from_csv(row)
        return
    yield from _jsonl(path, 0)


def read_chunks(path: Path, *, size: int, after: int = 0) -> Iterator[list[tuple[int, Any]]]:
    """``read_lines`` in lists of ``size``, from the line after ``after`` (a resumed import
    does not parse again what it stored before)."""
    chunk: list[tuple[int, Any]] = []
    if path.suffix.lower() == ".csv":
        numbered: Iterator[tuple[int, Any]] = read_lines(path)
    else:  # the same as read_lines, inlined: it runs once per line of a large file
        numbered = _jsonl(path, after)
    for number, item in numbered:
        if number > after:
            chunk.append((number, item))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _jsonl(path: Path, after: int) -> Iterator[tuple[int, Any]]:
    loads, error_type = orjson.loads, orjson.JSONDecodeError
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number <= after or not line.strip():
                continue
            try:
                yield number, loads(line)
            except error_type as error:
                yield number, f"not JSON: {error}"


def import_file(
    *,
    sessions: SessionFactory,
    path: Path,
    source: Source,
    rules: IdentityRules,
    defaults: Defaults,
    progress: Callable[[int], None] | None = None,
) -> FileImportReport:
    key = file_key(path)
    with sessions() as session:
        checkpoint = session.get(ImportCheckpoint, key)
        done = checkpoint.last_line if checkpoint else 0
    report = FileImportReport(resumed_from=done)
    actor = Actor.system(f"import {path.name}")
    for chunk in read_chunks(path, size=CHUNK_LINES, after=done):
        _store_chunk(sessions, key, path, source, chunk, rules, defaults, actor, report)
        if progress:
            progress(len(chunk))
    return report


def _store_chunk(
    sessions: SessionFactory,
    key: str,
    path: Path,
    source: Source,
    chunk: list[tuple[int, Any]],
    rules: IdentityRules,
    defaults: Defaults,
    actor: Actor,
    report: FileImportReport,
) -> None:
    lines = [number for number, _ in chunk]
    items = [item for _, item in chunk]
    received_at = utcnow()
    messages, rejected = ingest.parse_all(
        items, type_=None, channel=source.channel, received_at=received_at
    )
    # A line that was not even JSON arrives as its error text; parse_all says "must be an object".
    reasons = [
        (lines[r.index], items[r.index] if isinstance(items[r.index], str) else r.reason)
        for r in rejected
    ]
    with sessions() as session, session.begin():
        session.add(source)
        result = (
            ingest.store(
                session=session,
                source_id=source.id,
                source_name=source.name,
                messages=messages,
                received_at=received_at,
                rules=rules,
                defaults=defaults,
                actor=actor,
            )
            if messages
            else ingest.IngestResult()
        )
        checkpoint = session.get(ImportCheckpoint, key) or ImportCheckpoint(
            file_key=key, file_name=str(path)[:500], accepted=0, rejected=0
        )
        checkpoint.last_line = lines[-1]
        checkpoint.accepted += len(result.accepted)
        checkpoint.rejected += len(reasons)
        session.add(checkpoint)
    report.accepted += len(result.accepted)
    report.duplicates += len(result.duplicates)
    report.rejected.extend(reasons)


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
