"""Staff page: data quality per source and field, from the latest measured report."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.audit.service import record
from tillit.quality import DIMENSIONS, QualityReport, measure
from tillit.quality.store import MEASURE_EVERY, latest_report, save_report
from tillit.staff.permissions import Permission
from tillit.storage.base import utcnow
from tillit.web.deps import DefaultsDep, SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/quality", response_class=HTMLResponse, dependencies=[allow(Permission.quality_read)])
def quality_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    defaults: DefaultsDep,
    source: str | None = None,
    days: Annotated[int | None, Query(ge=1, le=3650)] = None,
) -> HTMLResponse:
    current_days = days or settings.quality_current_days
    report = latest_report(session=session, current_days=current_days)
    if report is None:  # never measured with this setting: measure once, keep it
        report = measure(
            session=session, default_country=defaults.country, current_days=current_days
        )
        save_report(session=session, report=report)
        session.commit()
    return render(
        request,
        "quality/report.html",
        report=_only(report, source or None),
        dimensions=DIMENSIONS,
        source=source,
        every_minutes=int(MEASURE_EVERY.total_seconds() // 60),
        nav="quality",
    )


@router.post("/quality/measure", dependencies=[allow(Permission.quality_read)])
def measure_now(
    session: SessionDep,
    settings: SettingsDep,
    defaults: DefaultsDep,
    actor: FormActorDep,
) -> Response:
    """Measure now instead of waiting for the jobs process (takes seconds on large data)."""
    report = measure(
        session=session,
        default_country=defaults.country,
        current_days=settings.quality_current_days,
        now=utcnow(),
    )
    stored = save_report(session=session, report=report)
    record(
        session=session,
        actor=actor,
        action="quality.measure",
        entity_type="snapshot",
        entity_id=stored.id,
    )
    session.commit()
    return RedirectResponse("/staff/quality", status_code=303)


def _only(report: QualityReport, source: str | None) -> QualityReport:
    if source is None:
        return report
    return replace(report, sources=[s for s in report.sources if s.source == source])
