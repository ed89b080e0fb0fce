"""The customer's preference centre, reached by a personal link: no login, no JavaScript.

Every form carries the link's own CSRF token and is checked against the link's customer, so a
link can only ever read or change its own customer's data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tillit.audit.service import Actor
from tillit.campaigns import service as campaigns
from tillit.campaigns import words as campaign_words
from tillit.campaigns.definitions import content_for
from tillit.campaigns.relevance import reason_text as relevance_reason
from tillit.config import Settings
from tillit.consent import ledger, links, notices, preferences, wording
from tillit.consent.evidence import Evidence
from tillit.consent.gpc import gpc_requested, honour_gpc
from tillit.consent.models import ConsentDecision, Method, PersonalLink
from tillit.contact.log import decisions_since
from tillit.contact.reasons import CUSTOMER_LOG
from tillit.customers.service import get_customer
from tillit.errors import FieldError, InvalidInput, PermissionDenied
from tillit.i18n import LANGUAGES, negotiate, translations
from tillit.privacy import data_requests, erasure, export
from tillit.privacy.models import DataRequestKind
from tillit.promises.report import CUSTOMER_EVIDENCE, customer_record
from tillit.staff import service as staff
from tillit.staff.models import StaffUser
from tillit.vocabulary import OutboundChannel
from tillit.web.deps import SessionDep, SettingsDep, client_ip
from tillit.web.pages import preference_form
from tillit.web.pages.staff_auth import SESSION_COOKIE
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def staff_viewer(request: Request, session: Session) -> StaffUser | None:
    """The staff member looking at this page, when a staff session comes with the request
    (they opened it from the customer's page): the page then says so, and what they change is
    recorded as theirs, not the customer's."""
    token = request.cookies.get(SESSION_COOKIE)
    found = staff.resolve_session(session=session, token=token) if token else None
    return found.user if found is not None else None


def acting(request: Request, session: Session, customer_id: int) -> Actor:
    viewer = staff_viewer(request, session)
    if viewer is None:
        return customer_actor(customer_id)
    return staff.staff_actor(viewer, ip=client_ip(request))


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


def _back(token: str, form: FormData, saved: str, version: int | None = None) -> Response:
    """Back to the page, at the confirmation beside the button the customer pressed
    (``saved`` names the section, or ``purpose:<key>`` the purpose whose button it was)."""
    query = {"saved": saved}
    if str(form.get("lang", "")) in LANGUAGES:
        query["lang"] = str(form.get("lang"))
    if version is not None:
        query["version"] = str(version)
    return RedirectResponse(f"/p/{token}?{urlencode(query)}#saved", status_code=303)


@router.get("/p/{token}", response_class=HTMLResponse)
def centre(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: str | None = None,
    saved: str | None = None,
    version: str | None = None,
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
    page = CentrePage(request, session, link, token=token, lang=lang)
    if saved == "preferences":
        page.summary = page.saved_summary(version)
    return page.render(saved=saved)


class CentrePage:
    """One customer's preference centre, drawn from their data in their language."""

    def __init__(
        self,
        request: Request,
        session: SessionDep,
        link: PersonalLink,
        *,
        token: str,
        lang: str | None,
    ) -> None:
        self.request, self.session, self.link, self.token = request, session, link, token
        self.customer = get_customer(session=session, customer_id=link.customer_id)
        self.prefs = preferences.current_preferences(session=session, customer_id=self.customer.id)
        self.language = negotiate(lang, self.prefs.language, self.customer.language)
        self.values = preference_form.saved_values(self.prefs, profile_zone=self.customer.time_zone)
        self.errors: dict[str, str] = {}
        self.summary: list[str] = []
        self.viewer = staff_viewer(request, session)

    def topic_label(self, key: str) -> str:
        topic = next((t for t in notices.list_topics(session=self.session) if t.key == key), None)
        return notices.topic_name(topic, self.language) if topic else key

    def saved_summary(self, version: str | None) -> list[str]:
        change = None
        if version and version.isdigit() and len(version) < 10:
            change = preferences.saved_change(
                session=self.session, customer_id=self.customer.id, version=int(version)
            )
        before, after = change or (self.prefs, self.prefs)  # no version: nothing changed
        return wording.summarise(
            before, after, language=self.language, topic_label=self.topic_label
        )

    def campaign_messages(self) -> list[dict[str, Any]]:
        """The campaigns' messages planned for this customer: sent, on the way or held, each
        with why (the relevance reason, or the reason it was held), in their language."""
        found = []
        for item in campaigns.messages_for(session=self.session, customer_id=self.customer.id):
            message, definition = item.message, item.definition
            language = message.language or self.language
            subject = ""
            if message.language or content_for(definition, self.language):
                first = (self.customer.name or "").split(" ")[0]
                _, subject, _ = campaigns.rendered(
                    definition, language, {"first_name": first, "name": first}
                )
            if message.status == "scheduled":
                why = relevance_reason(
                    message.explanation,
                    definition,
                    self.language,
                    group=message.group,
                    topic_name=self.topic_label,
                )
            else:
                why = campaign_words.CUSTOMER_REASONS.get(message.reason or "", "")
            found.append(
                {
                    "subject": subject.strip(" ,") or item.campaign.name,
                    "status": "sent" if item.sent else message.status,
                    "channel": message.channel,
                    "at": message.not_before or message.planned_at,
                    "why": why,
                    "translated": message.status == "scheduled",
                }
            )
        return found

    def render(self, *, saved: str | None = None, status_code: int = 200) -> HTMLResponse:
        session, customer, language = self.session, self.customer, self.language
        consents = ledger.current_consents(session=session, customer_id=customer.id)
        purposes = [
            {
                "purpose": purpose,
                "record": consents.get(purpose.key),
                "notice": notices.current_notice(
                    session=session, purpose=purpose, language=language
                ),
            }
            for purpose in notices.list_purposes(session=session)
        ]
        topics = notices.list_topics(session=session)
        chosen = self.values["topics"]
        return render(
            self.request,
            "consent/centre.html",
            status_code=status_code,
            language=language,
            token=self.token,
            customer=customer,
            staff_viewer=self.viewer,
            purposes=purposes,
            values=self.values,
            errors=self.errors,
            summary=self.summary,
            saved=saved,
            channels=list(OutboundChannel),
            periods=preference_form.PERIODS,
            quiet_presets=preference_form.QUIET_PRESETS,
            paused_until=self.prefs.paused_until,
            zones=wording.zone_choices(
                language, customer.country or preferences.country_of_zone(customer.time_zone)
            ),
            topics=topics,
            topic_name=notices.topic_name,
            languages=LANGUAGES,
            subscribed={t.key for t in topics} if chosen is None else chosen,
            decisions=decisions_since(session=session, customer_id=customer.id, days=90),
            campaign_messages=self.campaign_messages(),
            reason_texts=CUSTOMER_LOG,
            promise_record=customer_record(
                session=session,
                customer_id=customer.id,
                settings=self.request.app.state.settings,
                language=language,
            ),
            promise_evidence=CUSTOMER_EVIDENCE,
            form_token=links.form_token(self.link, self.request.app.state.settings.secret_key),
            gpc=gpc_requested(self.request.headers),
            channel_names=wording.CHANNEL_NAMES,
            identity_names=wording.IDENTITY_NAMES,
            period_names=wording.PERIOD_NAMES,
            locale_name=wording.locale_name,
            zone_name=wording.zone_name,
            format_date=format_date,
        )


@router.post("/p/{token}/consent")
def change_consent(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    decision = {"grant": ConsentDecision.granted, "withdraw": ConsentDecision.withdrawn}.get(
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
        actor=acting(request, session, link.customer_id),
        language=str(form.get("lang") or "") or None,
    )
    session.commit()
    return _back(token, form, f"purpose:{form.get('purpose')}")


@router.post("/p/{token}/preferences", response_class=HTMLResponse)
def change_preferences(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    page = CentrePage(request, session, link, token=token, lang=str(form.get("lang", "")))
    today = datetime.now(ZoneInfo(page.customer.time_zone)).date()
    changes, errors = preference_form.preference_changes(form, today=today)
    changes = preference_form.without_defaults(
        changes,
        page.prefs,
        profile_zone=page.customer.time_zone,
        profile_language=page.customer.language,
        all_topics={topic.key for topic in notices.list_topics(session=session)},
    )
    page.errors = preference_form.check(page.prefs, changes, errors)
    if page.errors:  # nothing is saved; the customer's other changes stay in the form
        page.values = preference_form.posted_values(form)
        return page.render(status_code=422)
    version = preferences.update_preferences(
        session=session,
        customer_id=link.customer_id,
        changes=changes,
        method=Method.preference_centre,
        actor=acting(request, session, link.customer_id),
    )
    session.commit()
    return _back(token, form, "preferences", version.version if version else None)


@router.post("/p/{token}/object")
def object_to_marketing(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    data_requests.object_to_marketing(
        session=session,
        customer_id=link.customer_id,
        actor=acting(request, session, link.customer_id),
    )
    session.commit()
    return _back(token, form, "consents")


@router.post("/p/{token}/export")
def download(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    link = _checked(session, settings, token, form)
    actor = acting(request, session, link.customer_id)
    request_row = data_requests.open_request(
        session=session,
        customer_id=link.customer_id,
        kind=DataRequestKind.portability,
        channel="preference_centre",
        actor=actor,
    )
    document = export.export_customer(session=session, customer_id=link.customer_id)
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
    actor = acting(request, session, link.customer_id)
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
