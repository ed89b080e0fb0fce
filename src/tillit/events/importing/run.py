"""``import_file``: a file's chunks, each stored with the checkpoint in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.customers.service import Defaults
from tillit.events import ingest
from tillit.events.importing.chunks import few_collections, parsed_chunks
from tillit.events.importing.files import file_key
from tillit.events.importing.parsing import ParsedChunk
from tillit.events.models import ImportCheckpoint, Source
from tillit.events.sources import SourceRef
from tillit.events.tracking import Receiving, receive_batch
from tillit.identity.rules import IdentityRules
from tillit.storage.session import SessionFactory
from tillit.storage.writer import DatabaseWriter, Writer


@dataclass
class FileImportReport:
    accepted: int = 0
    duplicates: int = 0
    resumed_from: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


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
    writer = DatabaseWriter(sessions)  # no group: each chunk commits in this thread
    receiving = Receiving(
        SourceRef(source.id, source.name, source.channel),
        rules,
        defaults,
        Actor.system(f"import {path.name}"),
    )
    with few_collections():
        # Where the database can copy a staging file in SQL (SQLite), the workers write the
        # timestamps as it binds them, so that the copy takes them as they are.
        binder = writer.timestamp_binder() if writer.attaches_files else None
        chunks = parsed_chunks(path, done, source.channel, rules, defaults.country, workers, binder)
        assume_new = True  # until a chunk turns out to repeat stored events (a re-import)
        for parsed in chunks:
            if not parsed.lines:
                continue  # only blank lines
            store = partial(_store_chunk, writer, receiving, key, path, parsed, report)
            try:
                store(assume_new=assume_new)
            except ingest.ResendsFound:  # rolled back: store it again, looking resends up
                assume_new = False
                store(assume_new=False)
            if parsed.batch.staged:
                parsed.batch.staged.path.unlink()
            if rejected and parsed.rejected:
                rejected(parsed.rejected)
            if progress:
                progress(len(parsed.lines))
    return report


def _store_chunk(
    writer: Writer,
    receiving: Receiving,
    key: str,
    path: Path,
    parsed: ParsedChunk,
    report: FileImportReport,
    *,
    assume_new: bool,
) -> None:
    """``assume_new``: see ``ingest.store``; ``ResendsFound`` leaves nothing stored."""
    checkpoint = partial(_checkpoint, key, path, parsed)
    result = receive_batch(
        writer, parsed.batch, receiving, assume_new=assume_new, also=checkpoint
    ).result()
    report.accepted += result.stored_count
    report.duplicates += len(parsed.repeats) + len(result.duplicates)
    report.rejected.extend(parsed.rejected)


def _checkpoint(
    key: str, path: Path, parsed: ParsedChunk, session: Session, result: ingest.IngestResult
) -> None:
    """The chunk's line and counts, in the transaction that stores it."""
    checkpoint = session.get(ImportCheckpoint, key) or ImportCheckpoint(
        file_key=key, file_name=str(path)[:500], accepted=0, rejected=0, duplicates=0
    )
    checkpoint.last_line = parsed.lines[-1]
    checkpoint.accepted += result.stored_count
    checkpoint.rejected += len(parsed.rejected)
    checkpoint.duplicates += len(parsed.repeats) + len(result.duplicates)
    session.add(checkpoint)
