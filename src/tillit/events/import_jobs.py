"""Event files sent to the API or the staff page, imported in the background.

``receive`` keeps such a file under ``<data dir>/imports`` and records it as queued, so a 202
means the file is safely kept, not yet imported. The jobs process (``tillit jobs run``, which
``tillit serve`` starts) imports queued files with the same importer as ``tillit import
events``: chunk by chunk, each committed with its checkpoint, so a stopped import resumes, and
messageIds make a re-sent file store nothing twice. Its counts (lines done, accepted,
rejected, duplicates) are the checkpoint's, exact at every commit; rejected lines go to a
rejects file beside it as each chunk commits. Once imported, the file is deleted (its rejects
file stays); a failed one is kept. A running import whose process died (no heartbeat for
STALE_AFTER) is taken over by the next round.
"""

from __future__ import annotations

import asyncio
import csv
import os
import uuid
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.service import Defaults
from tillit.errors import FieldError, InvalidInput, NotFound, TillitError
from tillit.events.importing import file_key, import_file, write_rejects
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
    named = (media_type or "").split(";")[0].strip().lower()
    if named in MEDIA_TYPES:
        return MEDIA_TYPES[named]
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


class FileTooLarge(TillitError):
    title = "Content too large"
    slug = "content-too-large"


async def receive(
    *,
    session: Session,
    data_dir: Path,
    blocks: AsyncIterable[bytes],
    limit: int,
    source_name: str,
    file_name: str | None,
    format_: str,
    actor: Actor,
) -> ImportState:
    """Keeps an upload's bytes (``blocks``, as they arrive: a large file never sits in
    memory; past ``limit`` bytes ``FileTooLarge``) under the data directory, and queues it,
    committing ``session`` (the request's own: a second session of the same request would
    wait on the first one's write turn). If anything fails, the session is rolled back, the
    file removed, and nothing was queued."""
    path = imports_dir(data_dir) / f"{uuid.uuid4().hex}.{format_}"
    try:
        size, lines = await _save(path, blocks, limit=limit)
        # Checking the file and committing: not on the event loop.
        return await asyncio.to_thread(
            _queue, session, path, size, lines, source_name, file_name or path.name, format_, actor
        )
    except BaseException:
        session.rollback()
        path.unlink(missing_ok=True)
        raise


async def _save(path: Path, blocks: AsyncIterable[bytes], *, limit: int) -> tuple[int, int]:
    """Writes and syncs the file; its size and lines, counted on the way."""
    size, newlines, last = 0, 0, b"\n"
    with path.open("wb") as handle:
        async for block in blocks:
            size += len(block)
            if size > limit:
                raise FileTooLarge(f"the file is over {limit} bytes")
            handle.write(block)
            newlines += block.count(b"\n")
            last = block[-1:] or last
        handle.flush()
        os.fsync(handle.fileno())
    return size, newlines + (last != b"\n")  # a last line without its newline counts


def _queue(
    session: Session,
    path: Path,
    size: int,
    lines: int,
    source_name: str,
    file_name: str,
    format_: str,
    actor: Actor,
) -> ImportState:
    """Checks the kept file and records it as queued, so that a committed EventImport always
    has its file."""
    source = session.scalars(select(Source).where(Source.name == source_name)).one_or_none()
    if source is None:
        raise InvalidInput(FieldError("source", f"no source is called {source_name!r}"))
    if size == 0:
        raise InvalidInput(FieldError("body", "the file is empty"))
    if format_ == "csv":
        _check_csv_header(path)
        lines -= 1
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
        after={
            "source": source.name,
            "file_name": job.file_name,
            "bytes": size,
            "lines": lines,
        },
    )
    queued = state(session, job)
    session.commit()
    return queued


def _check_csv_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8-sig", errors="replace")
    if "type" not in [column.strip() for column in next(csv.reader([header]), [])]:
        raise InvalidInput(FieldError("body", "line 1: a CSV file needs a header with 'type'"))


@dataclass(frozen=True)
class ImportState:
    """An import as the API and the staff page show it: its record and its checkpoint's
    counts."""

    job: EventImport
    source: str
    lines_done: int
    accepted: int
    rejected: int
    duplicates: int

    @property
    def progress(self) -> float:
        """Lines done of the total, 0 to 1."""
        total = self.job.total_lines
        return round(self.lines_done / total, 4) if total else 1.0

    @property
    def busy(self) -> bool:
        return self.job.status in (ImportStatus.queued, ImportStatus.running)


def state(session: Session, job: EventImport) -> ImportState:
    checkpoint = session.get(ImportCheckpoint, job.file_key)
    source = session.get(Source, job.source_id)
    done = checkpoint.last_line - (job.format == "csv") if checkpoint else 0
    return ImportState(
        job=job,
        source=source.name if source else "",
        # Done is all of it, whatever the checkpoint's last line (blank lines at the end).
        lines_done=job.total_lines if job.status == ImportStatus.done else done,
        accepted=checkpoint.accepted if checkpoint else 0,
        rejected=checkpoint.rejected if checkpoint else 0,
        duplicates=checkpoint.duplicates if checkpoint else 0,
    )


def latest(session: Session, limit: int) -> list[ImportState]:
    """The newest imports first."""
    jobs = session.scalars(select(EventImport).order_by(EventImport.id.desc()).limit(limit))
    return [state(session, job) for job in jobs]


def find(session: Session, import_id: int) -> EventImport:
    job = session.get(EventImport, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    return job


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
    between writing an upload and committing it leaves such a file (``receive`` removes it
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
