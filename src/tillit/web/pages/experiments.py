"""Staff pages: the experiments with their status and split so far (admins start and stop
them), and each experiment's results: every metric per variant with its intervals, the split
check, the customer's guardrails, a verdict in words, charts and the CSV."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from tillit.analytics import reports
from tillit.errors import Conflict, InvalidInput, NotFound
from tillit.experiments import assignment, service
from tillit.experiments.definitions import KEY_PATTERN
from tillit.experiments.models import Experiment
from tillit.experiments.results import (
    MetricResult,
    Results,
    amount,
    analyse,
    csv_text,
    stopped_by_guardrail,
    stopped_words,
    variant_name,
)
from tillit.experiments.statistics import SampleRatio
from tillit.staff.permissions import Permission
from tillit.storage.base import utcnow
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
Key = Annotated[str, Path(pattern=KEY_PATTERN)]
STATUS_WORDS = {"draft": "Draft", "running": "Running", "stopped": "Stopped"}


@dataclass(frozen=True)
class Row:
    experiment: Experiment
    status: str
    persons: dict[str, int]
    mixed: int
    split: SampleRatio


@router.get(
    "/experiments", response_class=HTMLResponse, dependencies=[allow(Permission.experiments_read)]
)
def experiments_page(
    request: Request, session: SessionDep, error: str | None = None
) -> HTMLResponse:
    rows = []
    for experiment in service.list_experiments(session=session):
        units, split = assignment.split_check(session=session, key=experiment.key)
        rows.append(
            Row(
                experiment=experiment,
                status=STATUS_WORDS[str(experiment.status)],
                persons={key: split.observed[key] for key in experiment.variant_keys},
                mixed=units.mixed,
                split=split,
            )
        )
    return render(
        request, "experiments/list.html", rows=rows, error=error and error[:300], nav="experiments"
    )


def _back(error: Exception | None = None) -> Response:
    if error is None:
        return RedirectResponse("/staff/experiments", status_code=303)
    detail = getattr(error, "detail", str(error))
    return RedirectResponse(f"/staff/experiments?error={quote(detail)}", status_code=303)


@router.post("/experiments/{key}/start", dependencies=[allow(Permission.experiments_run)])
def start(key: Key, session: SessionDep, actor: FormActorDep) -> Response:
    try:
        service.start_experiment(session=session, key=key, actor=actor)
    except (Conflict, NotFound, InvalidInput) as error:
        return _back(error)
    session.commit()
    return _back()


@router.post("/experiments/{key}/stop", dependencies=[allow(Permission.experiments_run)])
def stop(
    key: Key,
    session: SessionDep,
    actor: FormActorDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        service.stop_experiment(session=session, key=key, reason=reason, actor=actor)
    except (Conflict, NotFound, InvalidInput) as error:
        return _back(error)
    session.commit()
    return _back()


# ---- the results page ----------------------------------------------------------------------


def _results(request: Request, session: Session, key: str) -> Results:
    settings = request.app.state.settings
    experiment = service.get_experiment(session=session, key=key)
    keep = partial(reports.cached, settings)  # counted once per change of the data
    return analyse(session=session, experiment=experiment, now=utcnow(), keep=keep)


def _scale(low: float, high: float, lo: float, hi: float, width: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda value: round(low + (value - lo) / span * (high - low), 1)


def interval_chart(metric: MetricResult, names: dict[str, str]) -> Markup:
    """Per variant against the control: the always-valid interval (thick), the fixed-horizon
    interval (thin, CUPED's where it applies), the estimate (dot) and the line of no effect."""
    rows = [r for r in metric.variants if r.sequential is not None]
    if not rows:
        return Markup("")
    bounds = [0.0]
    for r in rows:
        assert r.sequential is not None
        fixed = r.cuped or r.fixed
        bounds += [r.sequential.ci_low, r.sequential.ci_high]
        if fixed is not None:
            bounds += [fixed.ci_low, fixed.ci_high]
    finite = [b for b in bounds if math.isfinite(b)]
    edge = max(abs(min(finite)), abs(max(finite))) or 1.0
    width, left, right, row_h = 640, 150, 620, 40
    height = row_h * len(rows) + 36
    x = _scale(left, right, -edge, edge, width)
    parts = [
        f'<line x1="{x(0)}" y1="4" x2="{x(0)}" y2="{height - 22}" class="zero"/>',
        f'<text x="{x(0)}" y="{height - 6}" text-anchor="middle" class="axis">no effect</text>',
        f'<text x="{left}" y="{height - 6}" class="axis">{_amount(metric, -edge)}</text>',
        f'<text x="{right}" y="{height - 6}" text-anchor="end" class="axis">'
        f"{_amount(metric, edge)}</text>",
    ]
    for i, r in enumerate(rows):
        assert r.sequential is not None
        y = 22 + i * row_h
        s, fixed = r.sequential, r.cuped or r.fixed
        name = escape(names.get(r.variant, r.variant))
        parts.append(f'<text x="4" y="{y + 6}" class="label">{name}</text>')
        if math.isfinite(s.ci_low) and math.isfinite(s.ci_high):
            kind = "harm" if r.harmed else ("sig" if s.significant else "ns")
            parts.append(
                f'<rect x="{x(s.ci_low)}" y="{y - 6}" width="{max(x(s.ci_high) - x(s.ci_low), 1)}"'
                f' height="12" class="seq {kind}"/>'
            )
        if fixed is not None and math.isfinite(fixed.ci_low) and math.isfinite(fixed.ci_high):
            parts.append(
                f'<line x1="{x(fixed.ci_low)}" y1="{y + 10}" x2="{x(fixed.ci_high)}"'
                f' y2="{y + 10}" class="fixed"/>'
            )
        parts.append(f'<circle cx="{x(s.difference)}" cy="{y}" r="4" class="dot"/>')
    label = (
        f"{metric.metric.label}: difference from the control per variant, with the always-valid "
        "interval as a bar and the fixed-horizon interval as a line"
    )
    return Markup(  # noqa: S704 - numbers, and text escaped where it is made
        f'<svg class="intervals" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet">'
        + "".join(parts)
        + "</svg>"
    )


def over_time_chart(metric: MetricResult, names: dict[str, str]) -> Markup:
    """The primary metric's always-valid estimate day by day (people first exposed up to each
    day): the band narrows as people come in."""
    series = [(r.variant, r.series) for r in metric.variants if len(r.series) >= 2]
    if not series:
        return Markup("")
    width, height, left, right, top, bottom = 640, 220, 60, 630, 10, 190
    days = sorted({p.day for _, points in series for p in points})
    values = [0.0] + [v for _, pts in series for p in pts for v in (p.ci_low, p.ci_high)]
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = min(finite), max(finite)
    x = _scale(left, right, 0, max(len(days) - 1, 1), width)
    y = _scale(bottom, top, lo, hi, height)
    index = {day: i for i, day in enumerate(days)}
    parts = [
        f'<line x1="{left}" y1="{y(0)}" x2="{right}" y2="{y(0)}" class="zero"/>',
        f'<text x="{left - 4}" y="{y(0) + 4}" text-anchor="end" class="axis">0</text>',
        f'<text x="{left}" y="{height - 6}" class="axis">{days[0]:%d %b}</text>',
        f'<text x="{right}" y="{height - 6}" text-anchor="end" class="axis">'
        f"{days[-1]:%d %b}</text>",
    ]
    for n, (variant, points) in enumerate(series):
        pts = [p for p in points if math.isfinite(p.ci_low) and math.isfinite(p.ci_high)]
        upper = " ".join(f"{x(index[p.day])},{y(p.ci_high)}" for p in pts)
        lower = " ".join(f"{x(index[p.day])},{y(p.ci_low)}" for p in reversed(pts))
        line = " ".join(f"{x(index[p.day])},{y(p.difference)}" for p in pts)
        parts.append(f'<polygon points="{upper} {lower}" class="band band{n % 3}"/>')
        parts.append(f'<polyline points="{line}" class="trend trend{n % 3}"/>')
        last = pts[-1]
        parts.append(
            f'<text x="{x(index[last.day]) - 4}" y="{y(last.difference) - 6}" text-anchor="end"'
            f' class="label">{escape(names.get(variant, variant))}</text>'
        )
    label = (
        f"{metric.metric.label}: the difference from the control day by day, with its "
        "always-valid interval as a band"
    )
    return Markup(  # noqa: S704 - numbers, and text escaped where it is made
        f'<svg class="over-time" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet">'
        + "".join(parts)
        + "</svg>"
    )


def _amount(metric: MetricResult, value: float) -> str:
    """An axis label, short: percentage points as 'pp'."""
    if metric.metric.kind == "conversion":
        return f"{value * 100:+.1f} pp"
    return f"{value:+,.0f}" if abs(value) >= 10 else f"{value:+.2f}"


ROLE_WORDS = {"primary": "Primary goal", "secondary": "Secondary goal", "guardrail": "Guardrail"}


@router.get(
    "/experiments/{key}",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.experiments_read)],
)
def results_page(request: Request, key: Key, session: SessionDep) -> HTMLResponse:
    results = _results(request, session, key)  # an unknown key: the 404 page
    experiment = results.experiment
    names = {v["key"]: variant_name(experiment, v["key"]).strip("“”") for v in experiment.variants}
    charts = {m.metric.key: interval_chart(m, names) for m in results.metrics if m.defined}
    return render(
        request,
        "experiments/results.html",
        results=results,
        experiment=experiment,
        status=STATUS_WORDS[str(experiment.status)],
        stopped=stopped_words(experiment),
        by_guardrail=stopped_by_guardrail(experiment),
        names=names,
        charts=charts,
        over_time=over_time_chart(results.primary, names),
        outside=assignment.outside_audience(session, experiment),
        roles=ROLE_WORDS,
        amount=amount,
        nav="experiments",
    )


@router.get("/experiments/{key}/results.csv", dependencies=[allow(Permission.experiments_read)])
def results_csv(request: Request, key: Key, session: SessionDep) -> Response:
    results = _results(request, session, key)
    return Response(
        csv_text(results),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="experiment-{key}.csv"'},
    )
