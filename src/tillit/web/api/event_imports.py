"""Bulk import of event files over HTTP: a thin face on tillit.events.import_jobs.

POST the file itself as the body (JSON Lines or CSV, as ``tillit import events`` takes); the
answer, 202, comes once the file is kept and queued, and names the import to follow. The jobs
process imports it; GET the import for its progress and counts, and its rejected lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from tillit.audit.service import Actor
from tillit.events import import_jobs
from tillit.events.models import ImportStatus
from tillit.staff.scopes import EVENTS_IMPORT
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, require_scope

router = APIRouter(tags=["events"])
Importer = Annotated[Actor, Depends(require_scope(EVENTS_IMPORT))]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: PROBLEM,
    403: PROBLEM,
    404: PROBLEM,
    413: PROBLEM,
    422: PROBLEM,
}


class EventImportPublic(BaseModel):
    id: int
    source: str
    file_name: str
    format: str
    size_bytes: int
    status: ImportStatus
    total_lines: int
    lines_done: int
    progress: float  # lines done / total lines, 0 to 1
    accepted: int
    rejected: int
    duplicates: int
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rejects_url: str


def _public(request: Request, state: import_jobs.ImportState) -> EventImportPublic:
    job = state.job
    return EventImportPublic(
        id=job.id,
        source=state.source,
        file_name=job.file_name,
        format=job.format,
        size_bytes=job.size_bytes,
        status=job.status,
        total_lines=job.total_lines,
        lines_done=state.lines_done,
        progress=state.progress,
        accepted=state.accepted,
        rejected=state.rejected,
        duplicates=state.duplicates,
        error=job.error,
        requested_by=job.requested_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        rejects_url=str(request.url_for("event_import_rejects", import_id=job.id)),
    )


@router.post(
    "/event-imports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventImportPublic,
    responses=ERRORS,
    summary="Send a file of events (JSON Lines or CSV) to import in the background",
    openapi_extra={  # read as a stream, not as a parameter, so FastAPI cannot see it
        "requestBody": {
            "required": True,
            "description": "The file itself, at most TILLIT_IMPORT_MAX_BYTES (413 past that)",
            "content": {
                media_type: {"schema": {"type": "string"}}
                for media_type in ("application/x-ndjson", "text/csv")
            },
        }
    },
)
async def send_file(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: Importer,
    source: Annotated[str, Query(description="The name of the source the events come from")],
    format_: Annotated[
        str | None,
        Query(alias="format", description="jsonl or csv; else from Content-Type or file name"),
    ] = None,
    file_name: Annotated[str | None, Query(description="For the record and the format")] = None,
) -> EventImportPublic:
    settings = request.app.state.settings
    state = await import_jobs.receive(
        session=session,
        data_dir=settings.data_dir,
        blocks=request.stream(),
        limit=settings.import_max_bytes,
        source_name=source,
        file_name=file_name,
        format_=import_jobs.format_of(
            given=format_, media_type=request.headers.get("content-type"), file_name=file_name
        ),
        actor=actor,
    )
    response.headers["Location"] = str(request.url_for("get_event_import", import_id=state.job.id))
    return _public(request, state)


@router.get(
    "/event-imports",
    response_model=list[EventImportPublic],
    responses=ERRORS,
    summary="The latest imports, newest first",
)
def list_imports(
    request: Request,
    session: SessionDep,
    _actor: Importer,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[EventImportPublic]:
    return [_public(request, state) for state in import_jobs.latest(session, limit)]


@router.get(
    "/event-imports/{import_id}",
    response_model=EventImportPublic,
    responses=ERRORS,
    summary="An import's progress and counts",
)
def get_event_import(
    import_id: EntityId, request: Request, session: SessionDep, _actor: Importer
) -> EventImportPublic:
    return _public(request, import_jobs.state(session, import_jobs.find(session, import_id)))


@router.get(
    "/event-imports/{import_id}/rejects",
    responses={**ERRORS, 200: {"content": {"application/x-ndjson": {}}}},
    summary="The rejected lines so far, as JSON Lines of line number and reason",
)
def event_import_rejects(
    import_id: EntityId, request: Request, session: SessionDep, _actor: Importer
) -> StreamingResponse:
    job = import_jobs.find(session, import_id)
    lines = import_jobs.read_rejects(request.app.state.settings.data_dir, job)
    return StreamingResponse(lines, media_type="application/x-ndjson")
