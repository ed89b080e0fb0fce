"""Staff page: the review queue of probable same-person pairs, and recent automatic merges."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.audit.service import record
from tillit.events.sources import list_sources
from tillit.identity import review
from tillit.identity.suggestions import run_matching
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/matches", response_class=HTMLResponse, dependencies=[allow(Permission.matches_read)])
def match_queue(request: Request, session: SessionDep, notice: str | None = None) -> HTMLResponse:
    return render(
        request,
        "identity/matches.html",
        candidates=review.queue(session=session),
        automatic=review.automatic(session=session),
        sources=[source.name for source in list_sources(session=session)],
        notice=notice,
        nav="matches",
    )


@router.post("/match-runs", dependencies=[allow(Permission.matches_decide)])
def match_run(
    session: SessionDep,
    settings: SettingsDep,
    actor: FormActorDep,
    left: Annotated[str, Form(min_length=1, max_length=100)],
    right: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    """What `tillit match run LEFT RIGHT` does, from the page (seconds on a few thousand
    profiles; the CLI is the way for large runs)."""
    known = {source.name for source in list_sources(session=session)}
    if left not in known or right not in known:
        unknown = ", ".join(sorted({left, right} - known))
        return _back(f"No source is named {unknown}.")
    report = run_matching(
        session=session,
        left_source=f"source:{left}",
        right_source=f"source:{right}",
        auto_threshold=settings.match_auto_threshold,
        actor=actor,
        memory_limit=settings.match_memory_limit,
        spill_directory=settings.data_dir / "tmp" / "matching",
    )
    record(
        session=session,
        actor=actor,
        action="match.run",
        entity_type="source",
        after={
            "left": left,
            "right": right,
            "suggested": report.suggested,
            "merged": report.merged,
        },
    )
    session.commit()
    return _back(
        f"Matched {left} with {right}: {report.suggested} new suggestions to review, "
        f"{report.merged} merged automatically."
    )


def _back(notice: str) -> Response:
    return RedirectResponse(f"/staff/matches?{urlencode({'notice': notice})}", status_code=303)


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
