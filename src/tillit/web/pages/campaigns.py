"""Staff pages: the campaigns with their funnel; a campaign with its previews in every
language, the hold-back reasons in plain words and relevance against the blast; the editor
(a plain form, no script); approval and planning for admins."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tillit.analytics import goal_store
from tillit.campaigns import service, words
from tillit.campaigns.definitions import KEY_PATTERN, PERSONAL_FIELDS, parse_definition
from tillit.campaigns.models import Campaign
from tillit.errors import Conflict, InvalidInput, NotFound
from tillit.i18n import LANGUAGE_NAMES, LANGUAGES
from tillit.staff.permissions import Permission
from tillit.vocabulary import MessageKind, OutboundChannel
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.staff_words import purpose_titles, topic_names
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
Key = Annotated[str, Path(pattern=KEY_PATTERN)]
SAMPLE = {
    "first_name": "Nina",
    "name": "Nina de Vries",
    "why_url": "https://example.com/p/…",
    "unsubscribe_url": "https://example.com/u/…",
}


def _common(session: Any) -> dict[str, Any]:
    return {
        "nav": "campaigns",
        "reason_words": words.STAFF_REASONS,
        "funnel_words": words.FUNNEL_WORDS,
        "status_words": words.STATUS_WORDS,
        "group_words": words.GROUP_WORDS,
        "languages": LANGUAGES,
        "language_names": LANGUAGE_NAMES,
        "purposes": purpose_titles(session),
        "topics": topic_names(session),
        "kinds": [kind.value for kind in MessageKind],
        "channels": [channel.value for channel in OutboundChannel],
        "personal_fields": PERSONAL_FIELDS,
    }


def _with_funnels(session: Session) -> list[tuple[Campaign, service.Funnel]]:
    campaigns = service.list_campaigns(session=session)
    return list(zip(campaigns, service.funnels(session=session, campaigns=campaigns), strict=True))


@router.get(
    "/campaigns", response_class=HTMLResponse, dependencies=[allow(Permission.campaigns_read)]
)
def campaigns_page(request: Request, session: SessionDep, error: str | None = None) -> HTMLResponse:
    rows = _with_funnels(session)
    return render(
        request,
        "campaigns/list.html",
        rows=rows,
        error=error and error[:300],
        form={},
        errors={},
        **_common(session),
    )


@router.get(
    "/campaigns/{key}",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.campaigns_read)],
)
def campaign_page(
    key: Key, request: Request, session: SessionDep, error: str | None = None
) -> HTMLResponse:
    campaign = service.get_campaign(session=session, key=key)
    definition = service.definition_of(campaign)
    previews = []
    for language in LANGUAGES:
        used, subject, body = (
            service.rendered(definition, language, SAMPLE)
            if (language in definition.content or definition.fallback_language)
            else (None, "", "")
        )
        previews.append({"language": language, "used": used, "subject": subject, "body": body})
    return render(
        request,
        "campaigns/detail.html",
        campaign=campaign,
        definition=definition,
        previews=previews,
        goal_names=goal_store.goal_names(session),
        funnel=service.funnel(session=session, campaign=campaign),
        results=service.results(session=session, campaign=campaign),
        error=error and error[:300],
        **_common(session),
    )


def _definition_from(form: Any) -> dict[str, Any]:
    """The editor's fields as a definition document (blank fields left out)."""

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    def number(name: str, default: float) -> Any:
        value = text(name)
        try:
            return float(value) if value else default
        except ValueError:
            return value  # the definition's check names the field

    content = {
        language: {"subject": text(f"subject_{language}"), "body": text(f"body_{language}")}
        for language in LANGUAGES
        if text(f"subject_{language}") or text(f"body_{language}")
    }
    document: dict[str, Any] = {
        "key": text("key"),
        "name": text("name"),
        "purpose": text("purpose"),
        "kind": text("kind") or "marketing",
        "topics": [t.strip() for t in text("topics").split(",") if t.strip()],
        "segment": text("segment"),
        "channel": text("channel") or "preferred",
        "channels": form.getlist("channels") or ["email"],
        "content": content,
        "fallback_language": text("fallback_language") or None,
        "schedule": {"type": text("schedule_type") or "once"},
        "relevance": {
            "enabled": text("relevance_enabled") != "off",
            "min_score": number("min_score", 0.5),
            "topic_weight": number("topic_weight", 0.5),
            "window_days": number("window_days", 7),
            "signals": [],
        },
        "holdout_share": number("holdout_share", 0),
        "blast_share": number("blast_share", 0),
        "min_days_between": number("min_days_between", 7),
        "goal": text("goal") or None,
        "send_time": text("send_time") or "window_start",
    }
    if text("schedule_at"):
        document["schedule"]["at"] = text("schedule_at")
    if text("every_days"):
        document["schedule"]["every_days"] = number("every_days", 7)
    if text("trigger_event"):
        document["schedule"]["event"] = text("trigger_event")
    if text("trigger_goal"):
        document["schedule"]["goal"] = text("trigger_goal")
    if text("signal_event"):
        document["relevance"]["signals"].append(
            {
                "topic": text("signal_topic") or (document["topics"] or [""])[0],
                "event": text("signal_event"),
                "property": text("signal_property") or None,
                "value": text("signal_value") or None,
                "weight": number("signal_weight", 0.5),
                "saturation": number("signal_saturation", 3),
                "label": {
                    language: text(f"label_{language}")
                    for language in LANGUAGES
                    if text(f"label_{language}")
                },
            }
        )
    for name in ("window_days", "min_days_between"):
        holder = document["relevance"] if name == "window_days" else document
        if isinstance(holder[name], float) and holder[name].is_integer():
            holder[name] = int(holder[name])
    return document


@router.post(
    "/campaigns", response_class=HTMLResponse, dependencies=[allow(Permission.campaigns_draft)]
)
async def create(request: Request, session: SessionDep, actor: FormActorDep) -> Response:
    form = await request.form()
    try:
        definition = parse_definition(_definition_from(form))
        campaign = service.create_campaign(session=session, definition=definition, actor=actor)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        errors = (
            {e.field: e.message for e in error.errors}
            if isinstance(error, InvalidInput)
            else {"key": error.detail}
        )
        rows = _with_funnels(session)
        return render(
            request,
            "campaigns/list.html",
            status_code=422,
            rows=rows,
            error=None,
            form={k: form.get(k) for k in form},
            chosen_channels=form.getlist("channels"),
            errors=errors,
            **_common(session),
        )
    session.commit()
    return RedirectResponse(f"/staff/campaigns/{campaign.key}", status_code=303)


def _back(key: str, error: Exception | None = None) -> Response:
    if error is None:
        return RedirectResponse(f"/staff/campaigns/{key}", status_code=303)
    detail = getattr(error, "detail", str(error))
    return RedirectResponse(f"/staff/campaigns/{key}?error={quote(detail)}", status_code=303)


@router.post("/campaigns/{key}/approve", dependencies=[allow(Permission.campaigns_approve)])
def approve(key: Key, session: SessionDep, actor: FormActorDep) -> Response:
    try:
        service.approve_campaign(session=session, key=key, actor=actor)
    except (Conflict, NotFound) as error:
        session.rollback()
        return _back(key, error)
    session.commit()
    return _back(key)


@router.post("/campaigns/{key}/plan", dependencies=[allow(Permission.campaigns_approve)])
def plan(key: Key, session: SessionDep, settings: SettingsDep, actor: FormActorDep) -> Response:
    try:
        service.plan_campaign(session=session, settings=settings, key=key, actor=actor)
    except (Conflict, NotFound, InvalidInput) as error:
        session.rollback()
        return _back(key, error)
    session.commit()
    return _back(key)
