"""Jinja2 rendering with per-request translations (customer pages) and staff context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from tillit import __version__
from tillit.contact.reasons import staff_label
from tillit.dialogues.cases import rule_words
from tillit.i18n import LANGUAGE_NAMES, translations
from tillit.staff.models import StaffUser
from tillit.staff.permissions import Permission, allowed
from tillit.web.audit_words import action_words, changes, field_words, value_words
from tillit.web.staff_words import (
    case_note_name,
    channel_name,
    coded_value,
    country_name,
    data_request_kind,
    data_request_status,
    event_type_name,
    identity_name,
    language_name,
    merge_reason,
    quality_field_name,
    readable,
)

TEMPLATES = Path(__file__).with_name("templates")

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@pass_context
def _when(
    context: Context, value: datetime | None, zone: str | None = None, language: str | None = None
) -> str:
    """A moment in one zone, labelled with it: the page's zone (the staff time zone on staff
    pages) unless a customer's own is given, so one page never mixes unlabelled zones."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone or context.get("display_zone") or "UTC"))
    return format_datetime(local, "d MMM y, HH:mm zzz", locale=language or context["language"])


environment.filters.update(when=_when, field_words=field_words, reason_words=staff_label)
environment.globals.update(
    action_words=action_words,
    audit_changes=changes,
    case_rule=rule_words,
    channel_name=channel_name,
    language_name=language_name,
    value_words=value_words,
    readable=readable,
    country_name=country_name,
    event_type_name=event_type_name,
    identity_name=identity_name,
    quality_field_name=quality_field_name,
    case_note_name=case_note_name,
    coded_value=coded_value,
    data_request_kind=data_request_kind,
    data_request_status=data_request_status,
    merge_reason=merge_reason,
)


def _can(staff: StaffUser | None, name: str) -> bool:
    """``can("customers:edit")`` in templates: hide what the signed-in role may not use.
    An unknown name raises, so a typo in a template fails its page instead of hiding a link."""
    permission = Permission(name)
    return staff is not None and allowed(staff.role, permission)


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    language: str = "en",
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    catalog = translations(language)
    settings = request.app.state.settings
    staff: StaffUser | None = getattr(request.state, "staff", None)
    values = {
        "request": request,
        "version": __version__,
        "language": language,
        "language_names": LANGUAGE_NAMES,
        "_": catalog.gettext,
        "ngettext": catalog.ngettext,
        "staff": staff,
        "can": lambda name: _can(staff, name),
        "display_zone": settings.staff_zone,  # a page may pass its own
        "brand": settings.brand_name,
        "brand_logo": settings.logo_path is not None,
        "csrf_token": getattr(request.state, "csrf_token", None),
    }
    html = environment.get_template(template).render({**values, **context})
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = language
    return response
