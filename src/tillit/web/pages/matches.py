"""Staff page: the review queue of probable same-person pairs, and recent automatic merges."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.audit.service import record
from tillit.events.sources import list_sources
from tillit.identity import review
from tillit.identity.comparisons import parse_fields
from tillit.identity.suggestions import (
    MatchReport,
    SuggestionFilter,
    UnknownSource,
    count_suggestions,
    match_sources,
)
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


PAGE_SIZE = 25
STATUSES = ("open", "auto", "accepted", "rejected")


@router.get("/matches", response_class=HTMLResponse, dependencies=[allow(Permission.matches_read)])
def match_queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    notice: str | None = None,
    status: Annotated[str, Query(pattern="^(open|auto|accepted|rejected)$")] = "open",
    min_probability: Annotated[float, Query(ge=0, le=1)] = 0.0,
    customer: Annotated[int | None, Query(ge=1)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    where = SuggestionFilter(status=status, min_probability=min_probability, customer_id=customer)
    total = count_suggestions(session=session, where=where)
    filters = {"status": status, "min_probability": min_probability}
    if customer is not None:
        filters["customer"] = customer
    return render(
        request,
        "identity/matches.html",
        candidates=review.queue(
            session=session,
            fields=parse_fields(settings.match_fields),
            where=where,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        ),
        automatic=review.automatic(session=session) if status == "open" and page == 1 else [],
        sources=[source.name for source in list_sources(session=session)],
        notice=notice,
        statuses=STATUSES,
        status=status,
        min_probability=min_probability,
        customer=customer,
        page=page,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        query=urlencode(filters),
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
    try:
        report = match_sources(session=session, settings=settings, names=[left, right], actor=actor)
    except UnknownSource:
        known = {source.name for source in list_sources(session=session)}
        if unknown := ", ".join(sorted({left, right} - known)):
            return _back(f"No source is named {unknown}.")
        report = MatchReport()  # sources made, no profiles from them yet: nothing to match
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


@router.post("/matches/decisions", dependencies=[allow(Permission.matches_decide)])
def match_decide_many(
    session: SessionDep,
    actor: FormActorDep,
    decision: Annotated[str, Form(pattern="^(accept|reject)$")],
    chosen: Annotated[list[EntityId] | None, Form(alias="suggestion")] = None,
) -> Response:
    """Accept or reject the ticked suggestions together, each audited as one decision."""
    if not chosen:
        return _back("Tick the pairs to decide first.")
    decided = review.decide_many(
        session=session, suggestion_ids=chosen, accept=decision == "accept", actor=actor
    )
    session.commit()
    if decision == "reject":
        return _back(f"{len(decided)} pairs kept apart.")
    together = sum(1 for s in decided if s.merge_id is None)
    return _back(
        f"{len(decided)} pairs merged."
        + (f" {together} of them were already one profile." if together else "")
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
