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
    html = environment.get_template(template).render(
        request=request,
        version=__version__,
        language=language,
        language_names=LANGUAGE_NAMES,
        _=catalog.gettext,
        ngettext=catalog.ngettext,
        staff=getattr(request.state, "staff", None),
        csrf_token=getattr(request.state, "csrf_token", None),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = language
    return response
