"""Jinja2 rendering with per-request translations (customer pages) and staff context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tillit import __version__
from tillit.i18n import LANGUAGE_NAMES, translations
from tillit.staff.models import StaffUser
from tillit.staff.permissions import Permission, allowed

TEMPLATES = Path(__file__).with_name("templates")

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None, zone: str = "UTC", language: str = "en") -> str:
    if value is None:
        return "—"
    return format_datetime(value.astimezone(ZoneInfo(zone)), "d MMM y, HH:mm", locale=language)


environment.filters["when"] = _when


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
    staff: StaffUser | None = getattr(request.state, "staff", None)
    html = environment.get_template(template).render(
        request=request,
        version=__version__,
        language=language,
        language_names=LANGUAGE_NAMES,
        _=catalog.gettext,
        ngettext=catalog.ngettext,
        staff=staff,
        can=lambda name: _can(staff, name),
        csrf_token=getattr(request.state, "csrf_token", None),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = language
    return response
