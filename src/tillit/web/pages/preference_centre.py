"""The customer's preference centre, reached by a personal link: no login, no JavaScript.

Every form carries the link's own CSRF token and is checked against the link's customer, so a
link can only ever read or change its own customer's data.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tillit.audit.service import Actor
from tillit.config import LANGUAGES, Settings
from tillit.consent import data_requests, erasure, ledger, links, notices, preferences
from tillit.consent.decision_log import decisions_since
from tillit.consent.evidence import Evidence
from tillit.consent.gpc import gpc_requested, honour_gpc
from tillit.consent.models import DataRequestKind, Decision, Method, PersonalLink
from tillit.customers.service import get_customer
from tillit.errors import FieldError, InvalidInput, PermissionDenied
from tillit.i18n import negotiate, translations
from tillit.web.deps import SessionDep, SettingsDep, client_ip
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)
PERIODS = ("day", "week", "month")
# English msgids; the template translates them with _().
CHANNEL_LABELS = {
    "email": "E-mail",
    "sms": "Text message (SMS)",
    "push": "App notifications",
    "phone": "Phone calls",
    "post": "Letters by post",
    "social": "Social media",
    "in_app": "Messages in the app",
}
PERIOD_LABELS = {"day": "per day", "week": "per week", "month": "per month"}


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def customer_actor(customer_id: int) -> Actor:
    # No IP here: the audit log would keep it whole; consent evidence keeps only a prefix.
    return Actor(type="customer", id=str(customer_id), label=f"customer #{customer_id}")


def evidence_of(request: Request) -> Evidence:
    return Evidence(
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        gpc=gpc_requested(request.headers),
    )


def gone_page(request: Request, error: links.LinkGone) -> HTMLResponse:
    language = negotiate(
        request.query_params.get("lang"), accept_language=request.headers.get("accept-language")
    )
    _ = translations(language).gettext
    reasons = {
        "this link has expired": _("This link has expired."),
        "this link has been withdrawn": _("This link has been withdrawn."),
    }
    return render(
        request,
        "error.html",
        status_code=410,
        language=language,
        status=410,
        title=_("This link no longer works"),
        detail=reasons.get(error.detail, _("This link is not valid.")),
    )


def _open(session: SessionDep, settings: Settings, token: str) -> PersonalLink:
    return links.resolve_link(session=session, token=token, secret_key=settings.secret_key)


def _checked(session: SessionDep, settings: Settings, token: str, form: FormData) -> PersonalLink:
    link = _open(session, settings, token)
    if not links.check_form_token(link, settings.secret_key, str(form.get("csrf_token", ""))):
        raise PermissionDenied("the form's security token is missing or stale; reload the page")
    claimed = form.get("customer_id")
    if claimed is not None and str(claimed) != str(link.customer_id):
        raise PermissionDenied("this link belongs to another customer")
    return link


def _back(token: str, form: FormData, anchor: str) -> RedirectResponse:
    language = str(form.get("lang", ""))
    query = f"?lang={language}&saved=1" if language in LANGUAGES else "?saved=1"
    return RedirectResponse(f"/p/{token}{query}#{anchor}", status_code=303)


@router.get("/p/{token}", response_class=HTMLResponse)
def centre(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: str | None = None,
    saved: bool = False,
) -> Response:
    try:
        link = _open(session, settings, token)
    except links.LinkGone as error:
        return gone_page(request, error)
    if gpc_requested(request.headers) and honour_gpc(
        session=session,
        customer_id=link.customer_id,
        evidence=evidence_of(request),
        actor=customer_actor(link.customer_id),
    ):
        session.commit()
    customer = get_customer(session=session, customer_id=link.customer_id)
    current = preferences.current_preferences(session=session, customer_id=customer.id)
    language = negotiate(lang, current.language, customer.language)
    consents = ledger.current_consents(session=session, customer_id=customer.id)
    purposes = [
        {
            "purpose": purpose,
            "record": consents.get(purpose.key),
            "notice": notices.current_notice(session=session, purpose=purpose, language=language),
        }
        for purpose in notices.list_purposes(session=session)
    ]
    topics = notices.list_topics(session=session)
    return render(
        request,
        "consent/centre.html",
        language=language,
        token=token,
        customer=customer,
        purposes=purposes,
        prefs=current,
        channels=preferences.CHANNELS,
        periods=PERIODS,
        topics=topics,
        topic_name=notices.topic_name,
        languages=LANGUAGES,
        subscribed=set(current.topics) if current.topics is not None else {t.key for t in topics},
        decisions=decisions_since(session=session, customer_id=customer.id, days=90),
        form_token=links.form_token(link, settings.secret_key),
        saved=saved,
        gpc=gpc_requested(request.headers),
        channel_labels=CHANNEL_LABELS,
        period_labels=PERIOD_LABELS,
    )


@router.post("/p/{token}/consent")
def change_consent(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    decision = {"grant": Decision.granted, "withdraw": Decision.withdrawn}.get(
        str(form.get("decision"))
    )
    if decision is None:
        raise InvalidInput(FieldError("decision", "use grant or withdraw"))
    ledger.record_consent(
        session=session,
        customer_id=link.customer_id,
        purpose_key=str(form.get("purpose")),
        decision=decision,
        method=Method.preference_centre,
        channel="web",
        evidence=evidence_of(request),
        actor=customer_actor(link.customer_id),
        language=str(form.get("lang") or "") or None,
    )
    session.commit()
    return _back(token, form, "consents")


@router.post("/p/{token}/preferences")
def change_preferences(
    token: str, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    preferences.update_preferences(
        session=session,
        customer_id=link.customer_id,
        changes=preference_changes(form),
        method=Method.preference_centre,
        actor=customer_actor(link.customer_id),
    )
    session.commit()
    return _back(token, form, "preferences")


def preference_changes(form: FormData) -> dict[str, Any]:
    """Read the preference form. Unticked checkboxes are absent, so absence means 'off'."""
    caps = {}
    for channel in preferences.CHANNELS:
        count = str(form.get(f"cap_{channel}_count", "")).strip()
        if count:
            caps[str(channel)] = {"count": count, "period": form.get(f"cap_{channel}_period")}
    overall = str(form.get("cap_overall_count", "")).strip()
    start, end = str(form.get("quiet_start", "")), str(form.get("quiet_end", ""))
    return {
        "channels": {str(c): form.get(f"channel_{c}") == "on" for c in preferences.CHANNELS},
        "caps": caps,
        "overall_cap": {"count": overall, "period": form.get("cap_overall_period")}
        if overall
        else None,
        "quiet_hours": {"start": start, "end": end} if start and end else None,
        "time_zone": str(form.get("time_zone", "")).strip() or None,
        "topics": [str(topic) for topic in form.getlist("topics")],
        "paused_until": str(form.get("paused_until", "")) or None,
        "language": str(form.get("language", "")) or None,
        "channel_order": [
            c for c in str(form.get("channel_order", "")).replace(" ", "").split(",") if c
        ],
        "dialogues": form.get("dialogues") == "on",
    }


@router.post("/p/{token}/object")
def object_to_marketing(
    token: str, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    data_requests.object_to_marketing(
        session=session, customer_id=link.customer_id, actor=customer_actor(link.customer_id)
    )
    session.commit()
    return _back(token, form, "consents")


@router.post("/p/{token}/export")
def download(token: str, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    link = _checked(session, settings, token, form)
    actor = customer_actor(link.customer_id)
    request_row = data_requests.open_request(
        session=session,
        customer_id=link.customer_id,
        kind=DataRequestKind.portability,
        channel="preference_centre",
        actor=actor,
    )
    document = data_requests.export_customer(session=session, customer_id=link.customer_id)
    data_requests.complete_request(session=session, request_id=request_row.id, actor=actor)
    session.commit()
    name = f"my-data-{date.today().isoformat()}.json"
    return JSONResponse(document, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/p/{token}/erase", response_class=HTMLResponse)
def erase(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    language = negotiate(str(form.get("lang", "")))
    if form.get("confirm") != "yes":
        return RedirectResponse(f"/p/{token}?lang={language}#delete", status_code=303)
    actor = customer_actor(link.customer_id)
    request_row = data_requests.open_request(
        session=session,
        customer_id=link.customer_id,
        kind=DataRequestKind.erasure,
        channel="preference_centre",
        actor=actor,
    )
    erasure.erase_customer(
        session=session,
        customer_id=link.customer_id,
        secret_key=settings.secret_key,
        actor=actor,
        request_id=request_row.id,
        data_dir=settings.data_dir,
    )
    data_requests.complete_request(session=session, request_id=request_row.id, actor=actor)
    session.commit()
    return render(request, "consent/erased.html", language=language)
