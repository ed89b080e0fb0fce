"""Checks on customer fields that need more than a type: locales, zones and countries."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale, UnknownLocaleError

from tillit.errors import FieldError

# Norwegian written without a variant is nearly always Bokmål.
_LANGUAGE_ALIASES = {"no": "nb"}


def check_locale(value: str, field: str) -> str | FieldError:
    try:
        locale = Locale.parse(value.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return FieldError(field, f"{value!r} is not a known locale (e.g. da-DK, nl-NL)")
    language = _LANGUAGE_ALIASES.get(locale.language, locale.language)
    return f"{language}-{locale.territory}" if locale.territory else language


def check_time_zone(value: str, field: str) -> str | FieldError:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return FieldError(field, f"{value!r} is not an IANA time zone (e.g. Europe/Oslo)")
    return value


def check_country(value: str, field: str) -> str | FieldError:
    code = value.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        return FieldError(field, f"{value!r} is not an ISO 3166 country code")
    return code
