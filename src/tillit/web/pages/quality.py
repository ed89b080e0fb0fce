"""Staff page: data quality per source and field."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tillit.quality import DIMENSIONS, measure
from tillit.staff.permissions import Permission
from tillit.web.deps import DefaultsDep, SessionDep, SettingsDep
from tillit.web.pages.staff_auth import allow
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
    report = measure(
        session=session,
        default_country=defaults.country,
        source=source or None,
        current_days=days or settings.quality_current_days,
    )
    return render(
        request,
        "quality/report.html",
        report=report,
        dimensions=DIMENSIONS,
        source=source,
        nav="quality",
    )
