"""Staff page: send a file of events to import, and follow the imports (events.import_jobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tillit.audit.service import Actor
from tillit.errors import InvalidInput, NotFound
from tillit.events import import_jobs
from tillit.events.models import EventImport, ImportStatus
from tillit.events.sources import list_sources
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, StaffDep
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
BLOCK = 1 << 20


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, session: SessionDep, _user: StaffDep) -> HTMLResponse:
    return _page(request, session)


def _page(
    request: Request, session: SessionDep, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    jobs = session.scalars(select(EventImport).order_by(EventImport.id.desc()).limit(50))
    states = [import_jobs.state(session, job) for job in jobs]
    busy = any(s.job.status in (ImportStatus.queued, ImportStatus.running) for s in states)
    return render(
        request,
        "events/imports.html",
        status_code=status_code,
        imports=states,
        sources=list_sources(session=session),
        busy=busy,  # the page reloads itself while an import is waiting or running
        error=error,
        nav="imports",
    )


@router.post("/imports")
async def imports_send(
    request: Request,
    session: SessionDep,
    actor: FormActorDep,
    source: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    settings = request.app.state.settings
    try:
        chosen = import_jobs.format_of(given=None, media_type=None, file_name=file.filename or "")
        with import_jobs.upload(settings.data_dir, chosen) as path:
            await import_jobs.save_upload(path, _blocks(file), limit=settings.import_max_bytes)
            # Reading the file through (lines, key) and syncing it: not on the event loop.
            await run_in_threadpool(
                _queue, session, path, source, file.filename or path.name, chosen, actor
            )
    except (InvalidInput, import_jobs.FileTooLarge) as error:
        session.rollback()
        return _page(request, session, error=error.detail, status_code=error.status)
    return RedirectResponse("/staff/imports", status_code=303)


def _queue(
    session: Session, path: Path, source: str, file_name: str, format_: str, actor: Actor
) -> None:
    import_jobs.accept(
        session=session,
        path=path,
        source_name=source,
        file_name=file_name,
        format_=format_,
        actor=actor,
    )
    session.commit()


async def _blocks(file: UploadFile) -> AsyncIterator[bytes]:
    while block := await file.read(BLOCK):
        yield block


@router.get("/imports/{import_id}/rejects")
def imports_rejects(
    import_id: int, request: Request, session: SessionDep, _user: StaffDep
) -> StreamingResponse:
    job = session.get(EventImport, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    return StreamingResponse(
        import_jobs.read_rejects(request.app.state.settings.data_dir, job),
        media_type="application/x-ndjson",
        headers={"content-disposition": f'attachment; filename="import-{job.id}-rejects.jsonl"'},
    )
