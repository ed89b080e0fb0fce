"""Staff page: one customer's timeline across channels."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.customers import service
from tillit.events.timeline import timeline
from tillit.identity.merge import unmerge
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.vocabulary import SourceChannel
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
PAGE_SIZE = 50


@router.get(
    "/customers/{customer_id}/timeline",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.customers_read)],
)
def customer_timeline(
    customer_id: EntityId,
    request: Request,
    session: SessionDep,
    channel: SourceChannel | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    customer = service.get_customer(session=session, customer_id=customer_id)
    page = timeline(
        session=session, customer_id=customer_id, channel=channel, cursor=cursor, limit=PAGE_SIZE
    )
    return render(
        request,
        "events/timeline.html",
        customer=customer,
        page=page,
        channels=list(SourceChannel),
        channel=channel,
        cursor=cursor,
        nav="customers",
    )


@router.post("/merges/{merge_id}/undo", dependencies=[allow(Permission.matches_decide)])
def merge_undo(merge_id: EntityId, session: SessionDep, actor: FormActorDep) -> Response:
    entry = unmerge(session=session, merge_id=merge_id, actor=actor)
    session.commit()
    return RedirectResponse(f"/staff/customers/{entry.into_customer_id}/timeline", status_code=303)
