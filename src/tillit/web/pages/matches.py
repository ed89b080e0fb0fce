"""Staff page: the review queue of probable same-person pairs, and recent automatic merges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.identity import review
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/matches", response_class=HTMLResponse, dependencies=[allow(Permission.matches_read)])
def match_queue(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "identity/matches.html",
        candidates=review.queue(session=session),
        automatic=review.automatic(session=session),
        nav="matches",
    )


@router.post("/matches/{suggestion_id}", dependencies=[allow(Permission.matches_decide)])
def match_decide(
    suggestion_id: EntityId,
    session: SessionDep,
    actor: FormActorDep,
    decision: Annotated[str, Form(pattern="^(accept|reject)$")],
) -> Response:
    review.decide(
        session=session, suggestion_id=suggestion_id, accept=decision == "accept", actor=actor
    )
    session.commit()
    return RedirectResponse("/staff/matches", status_code=303)
