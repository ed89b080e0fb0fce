"""Checks on customer fields that need more than a type: locales, zones, countries, the NUL
character in any text, and the size and shape of traits."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import phonenumbers
from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

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


# NUL (U+0000) is refused everywhere a customer's data comes in: PostgreSQL cannot store it in
# text or JSONB (it answered 500) while SQLite kept it, so one rule makes both behave alike.
NUL = "\x00"
NUL_REASON = "must not contain the NUL character (U+0000)"
# Limits on a customer's traits, so one profile cannot grow without bound (a 20 MB trait made
# the staff page 40 MB): the whole document serialised as JSON, each key, and the nesting.
_SHOWN_NUL = "\\u0000"  # how a NUL inside a key is written in the field's name
TRAITS_MAX_BYTES = 32 * 1024
TRAIT_KEY_MAX_CHARS = 100
TRAITS_MAX_DEPTH = 5  # the traits object itself is level 1


def check_text(value: str | None, field: str) -> FieldError | None:
    """The one NUL check every input path uses (API, staff forms, CSV import, searches)."""
    if value is not None and NUL in value:
        return FieldError(field, NUL_REASON)
    return None


def _no_nul(value: str) -> str:
    if error := check_text(value, ""):
        raise PydanticCustomError("nul_character", error.message)
    return value


# The same rule as a field type, for request shapes whose text goes straight to a query.
PlainText = Annotated[str, AfterValidator(_no_nul)]


def check_traits(traits: dict[str, Any], field: str = "traits") -> list[FieldError]:
    """NUL, key length and depth anywhere in ``traits``, then its serialised size."""
    errors: list[FieldError] = []
    _check_trait_value(traits, field, 1, errors)
    if not errors:
        errors += check_traits_size(traits, field)
    return errors


def check_traits_size(traits: dict[str, Any], field: str = "traits") -> list[FieldError]:
    size = len(orjson.dumps(traits))
    if size > TRAITS_MAX_BYTES:
        return [FieldError(field, f"take {size} bytes as JSON; at most {TRAITS_MAX_BYTES}")]
    return []


def _check_trait_value(value: Any, field: str, depth: int, errors: list[FieldError]) -> None:
    if isinstance(value, str):
        if NUL in value:
            errors.append(FieldError(field, NUL_REASON))
        return
    if not isinstance(value, dict | list):
        return
    if depth > TRAITS_MAX_DEPTH:
        errors.append(FieldError(field, f"nests deeper than {TRAITS_MAX_DEPTH} levels"))
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_trait_value(item, f"{field}[{index}]", depth + 1, errors)
        return
    for key, item in value.items():
        path = f"{field}.{key.replace(NUL, _SHOWN_NUL)}"
        if NUL in key:
            errors.append(FieldError(path, f"key {NUL_REASON}"))
        elif not 1 <= len(key) <= TRAIT_KEY_MAX_CHARS:
            errors.append(FieldError(path, f"keys are 1 to {TRAIT_KEY_MAX_CHARS} characters"))
        else:
            _check_trait_value(item, path, depth + 1, errors)
