"""Staff pages: goals by channel or another breakdown, funnels defined in a form, and the
retention triangle, each with an inline SVG chart or heat-map (no JavaScript) and a CSV file.

The analyses read the Parquet lake and snapshots, cached by the data's mark
(``tillit.analytics.reports``), so a page shown again between two jobs rounds costs little."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import select

from tillit.analytics import reports
from tillit.analytics import segment_store as store
from tillit.analytics.cohorts import CohortRow
from tillit.analytics.funnels import ALL, Funnel, FunnelError, StepResult, parse_window
from tillit.analytics.goal_store import goal_names
from tillit.analytics.goals import (
    BreakdownResult,
    ChannelResult,
    EventGoal,
)
from tillit.consent.models import Purpose
from tillit.errors import Conflict, InvalidInput
from tillit.staff.permissions import Permission
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.staff_words import channel_name, country_name, language_name
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
BREAKDOWNS = {
    "channel": "Channel of the meeting",
    "language": "Language",
    "country": "Country",
    "segment": "Segment",
    "week": "Week of the meeting",
}
MODE_WORDS = {
    "ordered": "In order (other events may come between)",
    "strict": "Strictly in order (each step the very next event)",
    "any": "In any order",
}
MAX_COHORTS = 26


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> PlainTextResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return PlainTextResponse(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# -- goals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalView:
    goal: EventGoal
    name: str
    what: str
    rows: list[Any]  # ChannelResult or BreakdownResult


def _what(goal: EventGoal) -> str:
    if goal.kind == "consent":
        return f"Consent given to “{goal.purpose}”"
    if goal.kind == "answer":
        return f"Question “{goal.question}” answered" if goal.question else "Any question answered"
    if goal.kind == "signup":
        return "Signed up (a new customer)"
    return f"Event “{goal.event}”"


def _label(by: str, group: str) -> str:
    if by == "channel":
        return channel_name(group)
    if by == "language":
        return language_name(group) if group != "(none)" else "Not known"
    if by == "country":
        return country_name(group) if group != "(none)" else "Not known"
    if by == "week":
        return f"Week of {group}"
    return group


def _goal_views(session: SessionDep, settings: SettingsDep, by: str) -> list[GoalView]:
    names = goal_names(session)
    return [
        GoalView(goal=g, name=names.get(g.key, g.key), what=_what(g), rows=rows)
        for g, rows in reports.goal_rows(settings, session, by)
    ]


def _by(by: str) -> str:
    return by if by in BREAKDOWNS else "channel"


@router.get(
    "/analytics/goals", response_class=HTMLResponse, dependencies=[allow(Permission.analytics_read)]
)
def goals_page(
    request: Request, session: SessionDep, settings: SettingsDep, by: str = "channel"
) -> HTMLResponse:
    by = _by(by)
    return render(
        request,
        "analytics/goals.html",
        views=_goal_views(session, settings, by),
        by=by,
        breakdowns=BREAKDOWNS,
        label=lambda group: _label(by, group),
        nav="analytics",
        tab="goals",
    )


@router.get("/analytics/goals.csv", dependencies=[allow(Permission.analytics_read)])
def goals_csv(session: SessionDep, settings: SettingsDep, by: str = "channel") -> Response:
    by = _by(by)
    rows: list[list[Any]] = []
    if by == "channel":
        header = ["goal", "channel", "people_met", "people_converted", "rate", "rate_low"]
        header += ["rate_high", "first_touch", "last_touch", "linear", "value_first_touch"]
        header += ["value_last_touch", "value_linear", "mean_hours_to_convert"]
        for view in _goal_views(session, settings, by):
            for r in view.rows:
                assert isinstance(r, ChannelResult)
                rows.append([view.goal.key, *asdict(r).values()])
    else:
        header = ["goal", by, "people_met", "people_converted", "rate", "rate_low", "rate_high"]
        header += ["conversions", "value"]
        for view in _goal_views(session, settings, by):
            for b in view.rows:
                assert isinstance(b, BreakdownResult)
                rows.append([view.goal.key, *asdict(b).values()])
    return _csv(f"goals-by-{by}", header, rows)


# -- funnels ----------------------------------------------------------------------------------


@dataclass
class FunnelAsk:
    steps: list[str]
    mode: str
    within: str
    funnel: Funnel | None
    error: str | None

    def query(self) -> str:
        pairs = [("step", s) for s in self.steps] + [("mode", self.mode)]
        if self.within:
            pairs.append(("within", self.within))
        return urlencode(pairs)


def _funnel_ask(steps: list[str], mode: str, within: str, names: list[str]) -> FunnelAsk:
    chosen = [s.strip() for s in steps if s.strip()]
    if not steps:  # nothing asked yet: the shop's funnel where the lake has it
        chosen = reports.default_steps(names)
    ask = FunnelAsk(steps=chosen, mode=mode, within=within.strip(), funnel=None, error=None)
    if len(chosen) < 2:
        if steps:
            ask.error = "Choose at least two steps."
        return ask
    try:
        seconds = int(parse_window(ask.within).total_seconds()) if ask.within else None
        ask.funnel = reports.funnel_from([{"event": s} for s in chosen], mode, seconds)
    except FunnelError as error:
        ask.error = str(error).capitalize()
    except InvalidInput as error:
        ask.error = "; ".join(e.message for e in error.errors).capitalize()
    return ask


def _names(settings: SettingsDep) -> list[str]:
    return reports.known_events(settings)


def _run(settings: SettingsDep, ask: FunnelAsk) -> list[StepResult]:
    return [] if ask.funnel is None else reports.funnel_rows(settings, ask.funnel)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


Steps = Annotated[list[str], Query(max_length=reports.MAX_STEPS)]


@router.get(
    "/analytics/funnels",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.analytics_read)],
)
def funnels_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    step: Steps = [],  # noqa: B006 (FastAPI copies defaults)
    mode: str = "ordered",
    within: str = "",
    more: int = 0,
    saved: str = "",
    error: str = "",
) -> HTMLResponse:
    names = _names(settings)
    ask = _funnel_ask(step, mode if mode in MODE_WORDS else "ordered", within[:20], names)
    results = _run(settings, ask)
    total = [r for r in results if r.channel == ALL]
    channels: dict[str, list[StepResult]] = {}
    for r in results:
        if r.channel != ALL:
            channels.setdefault(r.channel, []).append(r)
    fields = max(len(ask.steps) + (1 if more else 0), 2)
    purposes = session.scalars(select(Purpose.key).order_by(Purpose.position)).all()
    return render(
        request,
        "analytics/funnels.html",
        status_code=422 if ask.error else 200,
        ask=ask,
        fields=min(fields, reports.MAX_STEPS),
        names=names,
        modes=MODE_WORDS,
        total=total,
        channels=channels,
        top=max([r.people for r in total], default=0),
        purposes=purposes,
        saved=saved[:100],
        duration=_duration,
        error=error[:300],
        nav="analytics",
        tab="funnels",
    )


@router.get("/analytics/funnels.csv", dependencies=[allow(Permission.analytics_read)])
def funnels_csv(
    settings: SettingsDep,
    step: Steps = [],  # noqa: B006
    mode: str = "ordered",
    within: str = "",
) -> Response:
    ask = _funnel_ask(step, mode, within[:20], _names(settings))
    header = ["channel", "step", "event", "people", "from_previous", "from_first", "dropped"]
    header.append("median_seconds_from_previous")
    rows = [list(asdict(r).values()) for r in _run(settings, ask)]
    return _csv("funnel", header, rows)


@router.post("/analytics/funnels/dropped", dependencies=[allow(Permission.segments_manage)])
def save_dropped(
    session: SessionDep,
    settings: SettingsDep,
    actor: FormActorDep,
    step: Annotated[list[str], Form(max_length=reports.MAX_STEPS)],
    dropped_at: Annotated[int, Form()],
    key: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)],
    purpose: Annotated[str, Form(max_length=64)],
    mode: Annotated[str, Form(max_length=16)] = "ordered",
    within: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Saves the people who dropped out at a step as a new segment, then shows the funnel."""
    ask = _funnel_ask(step, mode, within, [])
    back = f"/staff/analytics/funnels?{ask.query()}"
    if ask.funnel is None:
        return RedirectResponse(f"{back}&{urlencode({'error': ask.error or ''})}", 303)
    try:
        if store.find_segment(session, key) is not None:
            raise Conflict(f"a segment {key!r} exists already: choose another key")
        if not 2 <= dropped_at <= len(ask.funnel.steps):
            raise Conflict(f"people drop out at steps 2 to {len(ask.funnel.steps)}")
        store.save_segment(
            session=session,
            key=key.strip(),
            name=name.strip() or key,
            purpose=purpose,
            definition=reports.funnel_document(ask.funnel, dropped_at),
            actor=actor,
        )
    except (Conflict, InvalidInput) as error:
        session.rollback()
        return RedirectResponse(f"{back}&{urlencode({'error': error.detail})}", 303)
    session.commit()
    return RedirectResponse(f"{back}&{urlencode({'saved': key})}", 303)


# -- cohorts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Triangle:
    periods: int
    cohorts: list[tuple[str, int, list[CohortRow | None]]]  # cohort, size, cells by period


def _triangle(rows: list[CohortRow]) -> Triangle:
    by_cohort: dict[str, dict[int, CohortRow]] = {}
    for row in rows:
        by_cohort.setdefault(row.cohort.isoformat(), {})[row.period] = row
    recent = sorted(by_cohort)[-MAX_COHORTS:]
    periods = max((max(by_cohort[c]) for c in recent), default=-1) + 1
    cohorts = []
    for cohort in recent:
        cells = by_cohort[cohort]
        size = next(iter(cells.values())).size
        cohorts.append((cohort, size, [cells.get(n) for n in range(periods)]))
    return Triangle(periods=periods, cohorts=cohorts)


def _cohorts(settings: SettingsDep, period: str, returning_on: str | None) -> list[CohortRow]:
    return reports.cohort_rows(settings, period, returning_on)


@router.get(
    "/analytics/cohorts",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.analytics_read)],
)
def cohorts_page(
    request: Request, settings: SettingsDep, period: str = "week", returning_on: str = ""
) -> HTMLResponse:
    period = period if period in ("week", "month") else "week"
    returning = returning_on.strip()[:200] or None
    triangle = _triangle(_cohorts(settings, period, returning))
    return render(
        request,
        "analytics/cohorts.html",
        triangle=triangle,
        period=period,
        returning_on=returning or "",
        names=_names(settings),
        nav="analytics",
        tab="cohorts",
    )


@router.get("/analytics/cohorts.csv", dependencies=[allow(Permission.analytics_read)])
def cohorts_csv(settings: SettingsDep, period: str = "week", returning_on: str = "") -> Response:
    period = period if period in ("week", "month") else "week"
    rows = _cohorts(settings, period, returning_on.strip()[:200] or None)
    header = ["cohort", "period", "size", "eligible", "people", "share"]
    return _csv(
        f"cohorts-{period}",
        header,
        [[r.cohort.isoformat(), r.period, r.size, r.eligible, r.people, r.share] for r in rows],
    )
