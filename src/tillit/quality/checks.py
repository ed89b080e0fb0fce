"""Per-field checks of one value: is it correct, precise, structured? Pure functions, no DB.

A field is named by its last part (``email``, ``phone``, ``birthday``, ``locale`` …), so an
identity's e-mail, an identify call's ``traits.email`` and a profile trait share one check.
``None`` means the dimension does not apply to the field (no validator, no precision rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from tillit.customers.models import IdentityType
from tillit.customers.normalise import InvalidIdentity, normalise, normalise_email, normalise_phone

Check = Callable[[str], bool]

BIRTH_DATE_FIELDS = frozenset({"birthday", "birth_date", "birthdate", "dob"})
TIME_FIELDS = frozenset({"timestamp", "created_at", "createdAt", "updated_at", "updatedAt"})
CONTACT_FIELDS = frozenset({"email", "phone"})
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2})?$")
_PARTIAL_DATE = re.compile(r"^\d{4}(?:-\d{2})?$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _passes(function: Callable[[str], object]) -> Check:
    def check(value: str) -> bool:
        try:
            function(value)
        except (InvalidIdentity, ValueError, ZoneInfoNotFoundError):
            return False
        return True

    return check


def _is_time_field(field: str) -> bool:
    return field in TIME_FIELDS or field.endswith(("_at", "At"))


def _birth_date(value: str) -> None:
    partial = _PARTIAL_DATE.match(value)
    year = int(value[:4]) if partial else date.fromisoformat(value[:10]).year
    if not 1900 <= year <= date.today().year:
        raise ValueError("implausible year")


def _timestamp(value: str) -> None:
    datetime.fromisoformat(value)


def _zone(value: str) -> None:
    ZoneInfo(value)


def _locale(value: str) -> None:
    if not _LOCALE.match(value):
        raise ValueError("not a language[-REGION] tag")


def _country(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("not an ISO 3166 country")


def correct_check(field: str, *, default_country: str) -> Check | None:
    """The validator of a field, or None when the field has none."""
    if field == "email":
        return _passes(normalise_email)
    if field == "phone":
        return _passes(lambda v: normalise_phone(v, default_country=default_country))
    if field in IdentityType.__members__:
        return _passes(lambda v: normalise(field, v, default_country=default_country))
    if field == "locale":
        return _passes(_locale)
    if field == "time_zone":
        return _passes(_zone)
    if field == "country":
        return _passes(_country)
    if field in BIRTH_DATE_FIELDS:
        return _passes(_birth_date)
    if _is_time_field(field):
        return _passes(_timestamp)
    return None


def _precise_phone(value: str) -> bool:
    if not _E164.match(value):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def _precise_time(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return len(value) > 10 and parsed.tzinfo is not None


def precise_check(field: str) -> Check | None:
    """Whether a value carries the detail its field needs, or None when no rule applies."""
    if field == "phone":
        return _precise_phone  # E.164 as stored: country code and full length
    if field in BIRTH_DATE_FIELDS:
        return lambda v: bool(_FULL_DATE.match(v[:10])) and _passes(_birth_date)(v)
    if _is_time_field(field):
        return _precise_time  # a time of day and a zone, not a bare date
    if field == "locale":
        return lambda v: bool(_LOCALE.match(v)) and len(v) > 3  # language and region
    if field == "time_zone":
        return lambda v: "/" in v and _passes(_zone)(v)  # Area/City, not "CET" or "UTC"
    return None


def is_structured(kind: str, value: str, correct: bool | None) -> bool:
    """Typed JSON (object, array, number, boolean), a value its validator parses, or a single
    token; free text (words separated by spaces, such as one-line addresses) is not."""
    if kind in ("object", "array", "number", "boolean"):
        return True
    if correct is not None:
        return correct
    return not any(ch.isspace() for ch in value.strip())
