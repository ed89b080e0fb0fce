"""What probabilistic matching compares: the fields, where each is read, and how it is read.

A field is a trait (the first of its keys that a profile has) or an identity type (phone,
e-mail). Each has a kind that says how values are normalised and compared:

========  ===========================================  ==========================================
kind      normalised                                   compared (Splink)
========  ===========================================  ==========================================
name      case, whitespace, diacritics (ø -> o)         exact / Jaro-Winkler, term frequencies
date      2026-12-07, 20261207, 07/12/2026, 07.12.2026  exact / one month / one year / ten years
text      as names (addresses, suburbs, cities)         exact / Jaro-Winkler 0.9 / 0.7
postcode  upper case, no spaces                         exact / one or two edits, term frequencies
phone     its last 8 digits (local = international)     exact / one or two edits
email     lower case, trimmed                           exact / same user name
id        upper case, no spaces or dashes               exact / one or two edits
========  ===========================================  ==========================================

The workspace picks fields with ``TILLIT_MATCH_FIELDS`` (JSON): built-in names, or objects
``{"name": "member_no", "kind": "id", "traits": ["memberNo"]}``. A value on the identity
rules' blocked list (``TILLIT_IDENTITY_BLOCKED_VALUES``, ``..._PATTERNS``) is no evidence: it
counts as missing. A value present but unreadable (a birth date no format reads) is counted
per field and reported, and compared as missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from tillit.errors import FieldError, InvalidInput

Kind = Literal["name", "date", "text", "postcode", "phone", "email", "id"]
KINDS: tuple[Kind, ...] = ("name", "date", "text", "postcode", "phone", "email", "id")

# The same keys the data-quality report reads as birth dates (tillit.quality.checks).
BIRTH_DATE_TRAITS = ("birthday", "birth_date", "birthdate", "dob")


@dataclass(frozen=True)
class MatchField:
    name: str
    kind: Kind
    traits: tuple[str, ...] = ()
    identity: str | None = None  # an identity type: its first value, in value order


BUILT_IN: dict[str, MatchField] = {
    f.name: f
    for f in (
        MatchField("first_name", "name", ("firstName", "first_name", "given_name", "givenName")),
        MatchField(
            "last_name", "name", ("lastName", "last_name", "surname", "family_name", "familyName")
        ),
        MatchField("birth_date", "date", BIRTH_DATE_TRAITS),
        MatchField(
            "address",
            "text",
            ("address", "street", "streetAddress", "address_1", "address1", "address.street"),
        ),
        MatchField("suburb", "text", ("suburb", "city", "town", "locality", "address.city")),
        MatchField(
            "postcode",
            "postcode",
            ("postcode", "postalCode", "postal_code", "zip", "zipcode", "address.postalCode"),
        ),
        MatchField("phone", "phone", identity="phone"),
        MatchField("email", "email", identity="email"),
        MatchField("id_number", "id", ("id_number", "idNumber", "national_id", "nationalId")),
    )
}
DEFAULT_FIELDS = tuple(BUILT_IN)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def parse_fields(setting: Sequence[str | Mapping[str, Any]] | None) -> list[MatchField]:
    """``TILLIT_MATCH_FIELDS`` as fields (unset: all built in), or InvalidInput saying which
    entry is wrong and why."""
    if setting is None:
        return list(BUILT_IN.values())
    fields: list[MatchField] = []
    errors: list[FieldError] = []
    for index, entry in enumerate(setting):
        where = f"TILLIT_MATCH_FIELDS[{index}]"
        if isinstance(entry, str):
            if entry in BUILT_IN:
                fields.append(BUILT_IN[entry])
            else:
                errors.append(
                    FieldError(where, f"{entry!r} is not a built-in field ({', '.join(BUILT_IN)})")
                )
            continue
        name, kind = entry.get("name"), entry.get("kind")
        traits, identity = entry.get("traits") or [], entry.get("identity")
        if not isinstance(name, str) or not _NAME.match(name):
            errors.append(FieldError(where, "name: lower-case letters, digits and _"))
        elif kind not in KINDS:
            errors.append(FieldError(where, f"kind: one of {', '.join(KINDS)}"))
        elif not isinstance(traits, list) or not all(isinstance(t, str) for t in traits):
            errors.append(FieldError(where, "traits: a list of trait keys"))
        elif not traits and not isinstance(identity, str):
            errors.append(FieldError(where, "give traits to read, or an identity type"))
        else:
            fields.append(MatchField(name, kind, tuple(traits), identity))
    names = [f.name for f in fields]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        errors.append(FieldError("TILLIT_MATCH_FIELDS", f"named twice: {', '.join(duplicates)}"))
    if not fields and not errors:
        errors.append(FieldError("TILLIT_MATCH_FIELDS", "choose at least one field"))
    if errors:
        raise InvalidInput(errors)
    return fields


@dataclass
class Readout:
    """Per field: values that were present but unreadable, and values on the blocked list."""

    unreadable: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)


def trait_value(traits: Mapping[str, Any], key: str) -> object:
    """``address.city`` reads the city inside an address object."""
    if "." in key and key not in traits:
        outer, _, inner = key.partition(".")
        nested = traits.get(outer)
        return nested.get(inner) if isinstance(nested, Mapping) else None
    return traits.get(key)


def read_value(
    match_field: MatchField,
    traits: Mapping[str, Any],
    identities: Mapping[str, str],
) -> object:
    if match_field.identity is not None and match_field.identity in identities:
        return identities[match_field.identity]
    for key in match_field.traits:
        value = trait_value(traits, key)
        if value not in (None, "") and not isinstance(value, Mapping | list):
            return value
    return None


@lru_cache(maxsize=100_000)  # names, dates and postcodes repeat: read each value once
def normalise(kind: Kind, value: object) -> str | None:
    """The comparable form of ``value``, or None if it cannot be read as a ``kind``."""
    if kind == "date":
        return read_date(value)
    text = str(value).strip()
    if kind in ("name", "text"):
        return plain_text(text) or None
    if kind in ("postcode", "id"):
        return re.sub(r"[\s\-]", "", text).upper() or None
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        # The last 8 digits: local and international forms of one number compare equal.
        return digits[-8:] if len(digits) >= 6 else None
    if kind == "email":
        lowered = text.lower()
        return lowered if "@" in lowered else None
    raise ValueError(kind)


_FOLDED = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})


def plain_text(text: str) -> str:
    """Case, diacritics, punctuation and repeated spaces removed: 'Søren  Ærø-Hansen' ->
    'soren aero hansen'."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDED))
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]|_", " ", letters).split())


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SLASHED_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def read_date(value: object) -> str | None:
    """ISO 8601 (2026-12-07, with or without a time), 20261207, 2026/12/07, and 07/12/2026,
    07.12.2026, 07-12-2026 read day first (as in Europe) unless only month first makes a date;
    as YYYY-MM-DD, or None."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    for pattern in (_ISO, _COMPACT, _SLASHED_YEAR_FIRST):
        if found := pattern.match(text):
            year, month, day = (int(g) for g in found.groups())
            return _valid(year, month, day)
    if found := _DAY_FIRST.match(text):
        first, second, year = (int(g) for g in found.groups())
        return _valid(year, second, first) or _valid(year, first, second)
    return None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
