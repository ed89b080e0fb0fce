"""Staff pages for consent: purposes, notices and topics; rates; histories; data requests."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from tillit.consent import ledger, notices, preferences, rates
from tillit.contact.log import decisions_since
from tillit.customers.service import get_customer
from tillit.i18n import LANGUAGES
from tillit.privacy import data_requests
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId, utcnow
from tillit.web.deps import SessionDep
from tillit.web.pages.preference_centre import FormDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.staff_words import purpose_titles
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/consent", response_class=HTMLResponse, dependencies=[allow(Permission.consent_read)])
def overview(request: Request, session: SessionDep) -> HTMLResponse:
    purposes = notices.list_purposes(session=session, active_only=False)
    titles = purpose_titles(session)
    measured = rates.latest_weekly_rates(session=session)
    if measured is None or any(p.key not in measured.by_purpose for p in purposes):
        measured = rates.measure_weekly_rates(session=session, now=utcnow())  # once, then jobs
        session.commit()
    charts = {}
    for purpose in purposes:
        series = measured.by_purpose[purpose.key]
        charts[purpose.key] = (
            Markup(  # noqa: S704 - svg_line_chart builds from numbers and escapes the title
                rates.svg_line_chart(series, title=f"Weekly grant rate, {titles[purpose.key]}")
            ),
            series,
        )
    versions = {p.key: notices.notice_versions(session=session, purpose=p) for p in purposes}
    return render(
        request,
        "consent/staff_overview.html",
        nav="consent",
        purposes=purposes,
        purpose_titles=titles,
        versions=versions,
        charts=charts,
        measured_at=measured.measured_at,
        every_minutes=int(rates.MEASURE_EVERY.total_seconds() // 60),
        topics=notices.list_topics(session=session),
        languages=LANGUAGES,
    )


@router.post("/consent/purposes/{key}/notices", dependencies=[allow(Permission.notices_manage)])
def new_notice_version(
    key: str, session: SessionDep, actor: FormActorDep, form: FormDep
) -> Response:
    texts = {
        language: notices.NoticeText(
            str(form.get(f"{language}_title", "")),
            str(form.get(f"{language}_what_we_do", "")),
            str(form.get(f"{language}_what_you_get", "")),
        )
        for language in LANGUAGES
    }
    notices.add_notice_version(session=session, purpose_key=key, texts=texts, actor=actor)
    session.commit()
    return RedirectResponse("/staff/consent", status_code=303)


@router.get(
    "/consent/customers/{customer_id}",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.consent_read)],
)
def customer_history(customer_id: EntityId, request: Request, session: SessionDep) -> HTMLResponse:
    customer = get_customer(session=session, customer_id=customer_id)
    return render(
        request,
        "consent/staff_customer.html",
        nav="customers",
        customer=customer,
        purpose_titles=purpose_titles(session),
        records=ledger.history(session=session, customer_id=customer_id),
        broken=ledger.verify_chain(session=session, customer_id=customer_id),
        versions=preferences.preference_history(session=session, customer_id=customer_id),
        decisions=decisions_since(session=session, customer_id=customer_id),
    )


@router.get(
    "/data-requests",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.data_requests_handle)],
)
def request_queue(request: Request, session: SessionDep, all: bool = False) -> HTMLResponse:
    return render(
        request,
        "consent/staff_requests.html",
        nav="data-requests",
        requests=data_requests.request_queue(session=session, include_done=all),
    )


@router.post(
    "/data-requests/{request_id}/done", dependencies=[allow(Permission.data_requests_handle)]
)
def request_done(request_id: EntityId, session: SessionDep, actor: FormActorDep) -> Response:
    data_requests.complete_request(session=session, request_id=request_id, actor=actor)
    session.commit()
    return RedirectResponse("/staff/data-requests", status_code=303)
