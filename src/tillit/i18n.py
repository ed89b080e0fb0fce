"""Translations for customer-facing text, read from the Babel catalogs in ``tillit/locale``.

The ``.po`` files are compiled in memory at first use, so a fresh clone needs no build step.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "da", "sv", "nb", "nl")  # English first: the source language
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
LANGUAGE_NAMES = {
    "en": "English",
    "da": "Dansk",
    "sv": "Svenska",
    "nb": "Norsk bokmål",
    "nl": "Nederlands",
}


def N_(message: str) -> str:
    """Mark an English message for extraction; it is translated where it is shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES or language == "en":
        return gettext.NullTranslations()  # English is the source language
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate(
    *candidates: str | None, accept_language: str | None = None, default: str = "en"
) -> str:
    """The first supported language among explicit choices, then the browser's wishes."""
    for candidate in candidates:
        language = _supported(candidate)
        if language:
            return language
    for part in _by_quality(accept_language or ""):
        language = _supported(part)
        if language:
            return language
    return default


def _supported(tag: str | None) -> str | None:
    if not tag:
        return None
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    language = {"no": "nb", "nn": "nb"}.get(language, language)
    return language if language in LANGUAGES else None


def _by_quality(header: str) -> list[str]:
    weighted = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted) if tag]
