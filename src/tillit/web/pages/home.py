"""The staff home at /staff: the relationship at a glance, each tile linking to its page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from tillit.audit.service import record
from tillit.consent import wording
from tillit.contact.reasons import staff_label
from tillit.dialogues.metrics import svg_nps_chart
from tillit.overview.store import MEASURE_EVERY, latest_overview, measure_overview
from tillit.promises.report import summaries
from tillit.staff.permissions import Permission
from tillit.storage.base import utcnow
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.staff_words import purpose_titles
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("", response_class=HTMLResponse, dependencies=[allow(Permission.overview_read)])
def home(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    overview = latest_overview(session=session)
    if overview is None:  # never measured: measure once, keep it for the next visit
        overview = measure_overview(session=session, settings=settings, now=utcnow())
        session.commit()
    titles = purpose_titles(session)
    return render(
        request,
        "home.html",
        nav="home",
        every_minutes=int(MEASURE_EVERY.total_seconds() // 60),
        overview=overview,
        purpose_titles=titles,
        channel_labels=wording.CHANNEL_NAMES,
        reason_label=staff_label,
        # The reality check's summary, read from what the promises round stored.
        promises=summaries(session=session, settings=settings, active_only=True),
        nps_chart=Markup(  # noqa: S704 - svg_nps_chart escapes its text
            svg_nps_chart(overview.nps_by_month, title="NPS by month, with 95% intervals")
        ),
    )


@router.post("/overview/measure", dependencies=[allow(Permission.overview_read)])
def measure_now(session: SessionDep, settings: SettingsDep, actor: FormActorDep) -> Response:
    """Measure the overview now instead of waiting for the jobs process."""
    measure_overview(session=session, settings=settings, now=utcnow())
    record(session=session, actor=actor, action="overview.measure", entity_type="snapshot")
    session.commit()
    return RedirectResponse("/staff", status_code=303)
