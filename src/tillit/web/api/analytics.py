"""Goals, funnels and cohorts over HTTP, and a funnel's drop-outs saved as a segment.

Answers come from the analytics layer over the Parquet lake and snapshots, cached by the data's
mark (``tillit.analytics.reports``). A definition that cannot be answered is a 422 problem
naming the field."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from tillit.analytics import reports
from tillit.analytics import segment_store as store
from tillit.analytics.cohorts import retention
from tillit.analytics.goal_store import all_goals
from tillit.audit.service import Actor
from tillit.errors import Conflict, FieldError, InvalidInput, NotFound
from tillit.staff.scopes import ANALYTICS_READ, SEGMENTS_WRITE
from tillit.web.deps import SessionDep, SettingsDep, require_scope

router = APIRouter(prefix="/analytics", tags=["analytics"])
Reader = Annotated[Actor, Depends(require_scope(ANALYTICS_READ))]
Writer = Annotated[Actor, Depends(require_scope(SEGMENTS_WRITE))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 404, 409, 422)
}
Breakdown = Literal["channel", "language", "country", "segment", "week"]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200, description="The event name")
    filters: dict[str, str] = Field(default_factory=dict, description="Property -> value")
    within_seconds: int | None = Field(
        default=None, ge=1, le=3650 * 86400, description="At most so long after the previous step"
    )


class FunnelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[StepIn] = Field(min_length=2, max_length=reports.MAX_STEPS)
    mode: Literal["ordered", "strict", "any"] = "ordered"
    within_seconds: int | None = Field(
        default=None,
        ge=1,
        le=3650 * 86400,
        description="The last step at most so long after the first",
    )


class DroppedIn(FunnelIn):
    dropped_at: int = Field(ge=2, le=reports.MAX_STEPS, description="The step they did not reach")
    key: str = Field(min_length=1, max_length=64, description="The new segment's key")
    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=64, description="The consent purpose it serves")


class DroppedOut(BaseModel):
    key: str
    version: int
    definition: dict[str, Any]


@router.get("/goals", responses=PROBLEMS)
def goals_report(
    session: SessionDep,
    settings: SettingsDep,
    _actor: Reader,
    goal: Annotated[str | None, Query(max_length=64, description="One goal; default: all")] = None,
    by: Annotated[Breakdown, Query(description="The breakdown")] = "channel",
) -> dict[str, list[dict[str, Any]]]:
    """Per goal, rows by channel of the meeting (conversions, rate with its 95% Wilson
    interval, first/last/linear credit, value, hours to convert), or by language, country,
    segment or week (met, converted, rate, interval, conversions, value)."""
    defined = [g for g in all_goals(session=session) if goal is None or g.key == goal]
    if goal is not None and not defined:
        raise NotFound(f"no goal {goal!r}")
    return {
        g.key: [asdict(r) for r in rows]
        for g, rows in reports.goal_rows(settings, session, by)
        if goal is None or g.key == goal
    }


@router.post("/funnel", responses=PROBLEMS)
def funnel_report(data: FunnelIn, settings: SettingsDep, _actor: Reader) -> list[dict[str, Any]]:
    """Per step, for all channels together (channel ``(all)``) and per channel entered on:
    people, share of the previous and the first step, drop-off, median seconds from the
    previous step."""
    funnel = reports.funnel_from(
        [s.model_dump() for s in data.steps], data.mode, data.within_seconds
    )
    return [asdict(r) for r in reports.funnel_rows(settings, funnel)]


@router.post(
    "/funnel/dropped",
    response_model=DroppedOut,
    status_code=status.HTTP_201_CREATED,
    responses=PROBLEMS,
)
def save_dropped(data: DroppedIn, session: SessionDep, actor: Writer) -> DroppedOut:
    """Saves the people who reached the step before ``dropped_at`` but not that step as a new
    segment (kept up to date like any other)."""
    funnel = reports.funnel_from(
        [s.model_dump() for s in data.steps], data.mode, data.within_seconds
    )
    if data.dropped_at > len(funnel.steps):
        raise InvalidInput(FieldError("dropped_at", f"the funnel has {len(funnel.steps)} steps"))
    if store.find_segment(session, data.key) is not None:
        raise Conflict(f"a segment {data.key!r} exists already")
    segment = store.save_segment(
        session=session,
        key=data.key,
        name=data.name,
        purpose=data.purpose,
        definition=reports.funnel_document(funnel, data.dropped_at),
        actor=actor,
    )
    session.commit()
    return DroppedOut(
        key=segment.key,
        version=segment.current_version,
        definition=store.definition_of(session, segment),
    )


@router.get("/cohorts", responses=PROBLEMS)
def cohorts_report(
    settings: SettingsDep,
    _actor: Reader,
    period: Annotated[Literal["week", "month"], Query()] = "week",
    returning_on: Annotated[
        str | None, Query(max_length=200, description="Count a return only for this event")
    ] = None,
) -> list[dict[str, Any]]:
    """The retention triangle as rows: cohort, period, size, eligible (could have reached the
    period by the data's end), people, share."""
    rows = reports.cached(
        settings,
        ["api-cohorts", period, returning_on],
        lambda m: retention(m, period, returning_on),
    )
    return [{**asdict(r), "cohort": r.cohort.isoformat()} for r in rows]
