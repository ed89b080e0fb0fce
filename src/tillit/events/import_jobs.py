"""Event files sent to the API, imported in the background.

The API writes the file under ``<data dir>/imports`` and ``accept`` records it as queued, so a
202 means the file is safely kept, not yet imported. The jobs process (``tillit jobs run``,
which ``tillit serve`` starts) imports queued files with the same importer as ``tillit import
events``: chunk by chunk, each committed with its checkpoint, so a stopped import resumes, and
messageIds make a re-sent file store nothing twice. Its counts (lines done, accepted,
rejected, duplicates) are the checkpoint's, exact at every commit; rejected lines go to a
rejects file beside it as each chunk commits. Once imported, the file is deleted (its rejects
file stays); a failed one is kept. A running import whose process died (no
heartbeat for STALE_AFTER) is taken over by the next round.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import AsyncIterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.service import Defaults
from tillit.errors import FieldError, InvalidInput, TillitError
from tillit.events.importer import file_key, import_file, write_rejects
from tillit.events.models import EventImport, ImportCheckpoint, ImportStatus, Source
from tillit.identity.rules import IdentityRules
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

FORMATS = ("jsonl", "csv")
STALE_AFTER = timedelta(minutes=10)
ORPHAN_AFTER = timedelta(hours=1)
# What the sender may call the formats (Content-Type or file name) besides their own names.
MEDIA_TYPES = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/jsonlines": "jsonl",
    "text/csv": "csv",
}
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def imports_dir(data_dir: Path) -> Path:
    directory = data_dir / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def format_of(*, given: str | None, media_type: str | None, file_name: str | None) -> str:
    """The format named, else the one the Content-Type or the file name implies."""
    if given:
        if given not in FORMATS:
            raise InvalidInput(FieldError("format", f"must be one of {', '.join(FORMATS)}"))
        return given
    if media_type and media_type.split(";")[0].strip().lower() in MEDIA_TYPES:
        return MEDIA_TYPES[media_type.split(";")[0].strip().lower()]
    suffix = Path(file_name or "").suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    raise InvalidInput(
        FieldError(
            "format",
            "say which: format=jsonl or format=csv, a Content-Type of application/x-ndjson "
            "or text/csv, or a file name ending in .jsonl or .csv",
        )
    )


@contextmanager
def upload(data_dir: Path, format_: str) -> Iterator[Path]:
    """A new file for an upload's bytes. Write it and commit ``accept`` inside the block: if
    either fails, the file is removed, and nothing was queued."""
    path = imports_dir(data_dir) / f"{uuid.uuid4().hex}.{format_}"
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class FileTooLarge(TillitError):
    status = 413
    title = "Content too large"
    slug = "content-too-large"


async def save_upload(path: Path, blocks: AsyncIterable[bytes], *, limit: int) -> int:
    """Writes an upload's bytes as they arrive (a large file never sits in memory); returns
    the size. Past ``limit`` bytes it stops with ``FileTooLarge``."""
    size = 0
    with path.open("wb") as handle:
        async for block in blocks:
            size += len(block)
            if size > limit:
                raise FileTooLarge(f"the file is over {limit} bytes")
            handle.write(block)
    return size


def accept(
    *,
    session: Session,
    path: Path,
    source_name: str,
    file_name: str,
    format_: str,
    actor: Actor,
) -> EventImport:
    """Queues the file at ``path`` (written by the caller, see ``upload``): checks it, syncs
    it to disk and records it, so that a committed EventImport always has its file."""
    source = session.scalars(select(Source).where(Source.name == source_name)).one_or_none()
    if source is None:
        raise InvalidInput(FieldError("source", f"no source is called {source_name!r}"))
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(FieldError("body", "the file is empty"))
    lines = _count_lines(path)
    if format_ == "csv":
        _check_csv_header(path)
        lines -= 1
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
    job = EventImport(
        source_id=source.id,
        file_name=file_name[:300],
        stored_as=path.name,
        file_key=file_key(path),
        format=format_,
        size_bytes=size,
        total_lines=lines,
        status=ImportStatus.queued,
        requested_by=actor.label[:200],
    )
    session.add(job)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="event_import.queue",
        entity_type="event_import",
        entity_id=job.id,
        after={"source": source.name, "file_name": job.file_name, "bytes": size, "lines": lines},
    )
    return job


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")  # a last line without its newline


def _check_csv_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8-sig", errors="replace")
    if "type" not in [column.strip() for column in next(csv.reader([header]), [])]:
        raise InvalidInput(FieldError("body", "line 1: a CSV file needs a header with 'type'"))


@dataclass(frozen=True)
class ImportState:
    """An import as the API shows it: its record and its checkpoint's counts."""

    job: EventImport
    source: str
    lines_done: int
    accepted: int
    rejected: int
    duplicates: int


def state(session: Session, job: EventImport) -> ImportState:
    checkpoint = session.get(ImportCheckpoint, job.file_key)
    source = session.get(Source, job.source_id)
    return ImportState(
        job=job,
        source=source.name if source else "",
        lines_done=checkpoint.last_line - (job.format == "csv") if checkpoint else 0,
        accepted=checkpoint.accepted if checkpoint else 0,
        rejected=checkpoint.rejected if checkpoint else 0,
        duplicates=checkpoint.duplicates if checkpoint else 0,
    )


def rejects_path(data_dir: Path, job: EventImport) -> Path:
    return imports_dir(data_dir) / f"{job.stored_as}.rejects.jsonl"


def read_rejects(data_dir: Path, job: EventImport) -> Iterator[bytes]:
    """The rejected lines so far, as JSON Lines of line and reason."""
    path = rejects_path(data_dir, job)
    if path.exists():
        with path.open("rb") as handle:
            yield from handle


def run_queued(
    *,
    sessions: SessionFactory,
    data_dir: Path,
    rules: IdentityRules,
    defaults: Defaults,
    now: datetime | None = None,
) -> dict[str, int]:
    """Imports every queued file (and takes over stale running ones), oldest first; first
    removes uploads that were never queued (see ``remove_orphans``)."""
    remove_orphans(sessions, data_dir, now=now or utcnow())
    counts = {"imports_done": 0, "imports_failed": 0}
    while (job_id := _claim(sessions, now or utcnow())) is not None:
        ok = _run(sessions, job_id, data_dir=data_dir, rules=rules, defaults=defaults)
        counts["imports_done" if ok else "imports_failed"] += 1
    return counts


def remove_orphans(sessions: SessionFactory, data_dir: Path, *, now: datetime) -> list[Path]:
    """Deletes uploads older than ORPHAN_AFTER that no import names: a process that died
    between writing an upload and committing it leaves such a file (``upload`` removes it
    on any error it sees). Rejects files and younger uploads, which may be committing now,
    stay."""
    directory = imports_dir(data_dir)
    uploads = [
        path
        for path in directory.iterdir()
        if path.suffix.lstrip(".") in FORMATS and not path.name.endswith(".rejects.jsonl")
    ]
    if not uploads:
        return []
    with sessions() as session:
        named = set(session.scalars(select(EventImport.stored_as)))
    cutoff = (now - ORPHAN_AFTER).timestamp()
    removed = [p for p in uploads if p.name not in named and p.stat().st_mtime < cutoff]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _claim(sessions: SessionFactory, now: datetime) -> int | None:
    """The oldest import to run, marked running by this process. A conditional UPDATE, so
    two processes never both take one."""
    stale = now - STALE_AFTER
    waiting = or_(
        EventImport.status == ImportStatus.queued,
        (EventImport.status == ImportStatus.running) & (EventImport.heartbeat_at < stale),
    )
    with sessions() as session, session.begin():
        for job in session.scalars(select(EventImport).where(waiting).order_by(EventImport.id)):
            taken = session.execute(
                update(EventImport)
                .where(EventImport.id == job.id, EventImport.status == job.status)
                # queued: no heartbeat yet; running: still stale (no one took it meanwhile)
                .where(or_(EventImport.heartbeat_at.is_(None), EventImport.heartbeat_at < stale))
                .values(
                    status=ImportStatus.running,
                    started_at=job.started_at or now,
                    heartbeat_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return job.id
    return None


def _run(
    sessions: SessionFactory,
    job_id: int,
    *,
    data_dir: Path,
    rules: IdentityRules,
    defaults: Defaults,
) -> bool:
    with sessions() as session:
        job = session.get_one(EventImport, job_id)
        source = session.get_one(Source, job.source_id)
        session.expunge(source)
    path = imports_dir(data_dir) / job.stored_as
    try:
        import_file(
            sessions=sessions,
            path=path,
            source=source,
            rules=rules,
            defaults=defaults,
            progress=partial(_beat, sessions, job_id),
            rejected=partial(write_rejects, rejects_path(data_dir, job)),
        )
    except Exception as error:  # recorded on the import; the jobs process goes on
        _finish(sessions, job_id, ImportStatus.failed, f"{type(error).__name__}: {error}")
        return False
    _finish(sessions, job_id, ImportStatus.done, None)
    path.unlink(missing_ok=True)  # imported: its events are stored; its rejects file stays
    return True


def _beat(sessions: SessionFactory, job_id: int, _lines: int) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(EventImport).where(EventImport.id == job_id).values(heartbeat_at=utcnow())
        )


def _finish(sessions: SessionFactory, job_id: int, status: ImportStatus, error: str | None) -> None:
    with sessions() as session, session.begin():
        job = session.get_one(EventImport, job_id)
        job.status, job.error, job.finished_at = status, error and error[:2000], utcnow()
        record(
            session=session,
            actor=Actor.system("event import"),
            action=f"event_import.{status}",
            entity_type="event_import",
            entity_id=job_id,
            after={"error": error} if error else None,
        )
