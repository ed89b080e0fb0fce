"""Staff page: send a file of events to import, and follow the imports (events.import_jobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from tillit.customers.validation import check_text
from tillit.errors import Conflict, InvalidInput
from tillit.events import import_jobs
from tillit.events.sources import create_source, list_sources
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.vocabulary import SourceChannel
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.problems import http_status
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
BLOCK = 1 << 20
SOURCE_NAME_MAX = 100  # event_source.name


@router.get("/imports", response_class=HTMLResponse, dependencies=[allow(Permission.imports_read)])
def imports_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _page(request, session)


def _page(
    request: Request,
    session: SessionDep,
    *,
    error: str | None = None,
    created: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    states = import_jobs.latest(session, 50)
    return render(
        request,
        "events/imports.html",
        status_code=status_code,
        imports=states,
        sources=list_sources(session=session),
        # the page reloads itself while an import is waiting or running
        busy=any(state.busy for state in states),
        error=error,
        created=created,
        channels=list(SourceChannel),
        nav="imports",
    )


@router.post("/sources", dependencies=[allow(Permission.events_import)])
def source_create(
    request: Request,
    session: SessionDep,
    actor: FormActorDep,
    name: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """A tracking source and its write key, shown once on the page that answers (never in a
    URL, never again: only its hash is kept)."""
    name = name.strip()
    nul = check_text(name, "name")
    problem = nul.message if nul else None if name else "give the source a name"
    if not problem and len(name) > SOURCE_NAME_MAX:
        problem = f"a source name has at most {SOURCE_NAME_MAX} characters"
    if not problem and channel not in SourceChannel.__members__:
        problem = f"choose a channel: {', '.join(SourceChannel)}"
    if problem:
        return _page(request, session, error=f"No source made: {problem}.", status_code=422)
    try:
        source, key = create_source(
            session=session, name=name, channel=SourceChannel(channel), actor=actor
        )
    except Conflict as error:
        return _page(request, session, error=f"No source made: {error.detail}.", status_code=409)
    session.commit()
    return _page(request, session, created=(source.name, key))


@router.post("/imports", dependencies=[allow(Permission.events_import)])
async def imports_send(
    request: Request,
    session: SessionDep,
    actor: FormActorDep,
    source: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    settings = request.app.state.settings
    try:
        await import_jobs.receive(
            session=session,
            data_dir=settings.data_dir,
            blocks=_blocks(file),
            limit=settings.import_max_bytes,
            source_name=source,
            file_name=file.filename,
            format_=import_jobs.format_of(given=None, media_type=None, file_name=file.filename),
            actor=actor,
        )
    except (InvalidInput, import_jobs.FileTooLarge) as error:
        return _page(request, session, error=error.detail, status_code=http_status(error))
    return RedirectResponse("/staff/imports", status_code=303)


async def _blocks(file: UploadFile) -> AsyncIterator[bytes]:
    while block := await file.read(BLOCK):
        yield block


@router.get("/imports/{import_id}/rejects", dependencies=[allow(Permission.imports_read)])
def imports_rejects(
    import_id: EntityId, request: Request, session: SessionDep
) -> StreamingResponse:
    job = import_jobs.find(session, import_id)
    return StreamingResponse(
        import_jobs.read_rejects(request.app.state.settings.data_dir, job),
        media_type="application/x-ndjson",
        headers={"content-disposition": f'attachment; filename="import-{job.id}-rejects.jsonl"'},
    )
