"""The customer's own rules: channels, caps, quiet hours, topics, pause, language, dialogues.

Each change stores the whole document as a new version; the newest version is current and
the older ones are the history the customer and staff can read.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.consent.models import PreferenceVersion
from tillit.customers.models import Customer
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.i18n import LANGUAGES
from tillit.storage.base import utcnow
from tillit.vocabulary import OutboundChannel, Period

# A pause may end at most this many days ahead (a year, leap day included): a longer one is a
# withdrawal in disguise, and a date near the calendar's end broke the policy's arithmetic.
PAUSE_MAX_DAYS = 366


class Cap(BaseModel):
    """At most ``count`` messages per ``period``."""

    model_config = ConfigDict(frozen=True)
    count: int = Field(ge=0, le=1000)
    period: Period


class QuietHours(BaseModel):
    """Local times in the customer's zone; ``start`` after ``end`` wraps past midnight."""

    model_config = ConfigDict(frozen=True)
    start: time
    end: time


class PreferenceDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[OutboundChannel, bool] = Field(
        default_factory=lambda: dict.fromkeys(OutboundChannel, True)
    )
    caps: dict[OutboundChannel, Cap] = Field(default_factory=dict)
    overall_cap: Cap | None = None
    quiet_hours: QuietHours | None = None
    time_zone: str | None = None  # None: the customer's profile zone
    topics: list[str] | None = None  # None: every topic in the catalogue
    paused_until: date | None = None
    language: str | None = None
    channel_order: list[OutboundChannel] = Field(default_factory=list)
    dialogues: bool = True

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(f"unknown time zone {value!r}") from error
        return value or None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value and value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return value or None

    @field_validator("channel_order")
    @classmethod
    def _unique_order(cls, value: list[OutboundChannel]) -> list[OutboundChannel]:
        return list(dict.fromkeys(value))


def latest_version(*, session: Session, customer_id: int) -> PreferenceVersion | None:
    return session.scalar(
        select(PreferenceVersion)
        .where(PreferenceVersion.customer_id == customer_id)
        .order_by(PreferenceVersion.version.desc())
        .limit(1)
    )


def current_preferences(*, session: Session, customer_id: int) -> PreferenceDocument:
    latest = latest_version(session=session, customer_id=customer_id)
    return (
        PreferenceDocument()
        if latest is None
        else PreferenceDocument.model_validate(latest.document)
    )


def validated(document: dict[str, Any]) -> PreferenceDocument:
    """A whole preference document, or InvalidInput naming every field that is wrong."""
    try:
        return PreferenceDocument.model_validate(document)
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(".".join(str(p) for p in item["loc"]) or "preferences", item["msg"])
                for item in error.errors()
            ]
        ) from error


def update_preferences(
    *,
    session: Session,
    customer_id: int,
    changes: dict[str, Any],
    method: str,
    actor: Actor,
    now: datetime | None = None,
) -> PreferenceVersion | None:
    """Apply ``changes`` (top-level fields) and keep the result as a new version, recorded at
    ``now`` (default: the present; the demo's simulated year passes its own clock).

    Returns the new version, or None when nothing actually changed (no empty versions).
    """
    if session.get(Customer, customer_id, with_for_update=True) is None:
        raise NotFound(f"customer {customer_id} does not exist")
    latest = latest_version(session=session, customer_id=customer_id)
    before = current_preferences(session=session, customer_id=customer_id)
    after = validated({**before.model_dump(mode="json"), **changes})
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = sorted(key for key in new if new[key] != old[key])
    if not changed:
        return None
    if "paused_until" in changed:  # only a new pause: an old stored one may be re-sent as is
        _refuse_far_pause(after.paused_until, today=(now or utcnow()).date())
    version = PreferenceVersion(
        customer_id=customer_id,
        version=(latest.version + 1) if latest else 1,
        document=new,
        changed=changed,
        method=method,
        recorded_at=now or utcnow(),
    )
    session.add(version)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="preferences.update",
        entity_type="customer",
        entity_id=customer_id,
        after={"version": version.version, "changed": changed, "method": method},
    )
    return version


def _refuse_far_pause(paused_until: date | None, *, today: date) -> None:
    if paused_until is None:
        return
    latest = today + timedelta(days=PAUSE_MAX_DAYS)
    if paused_until > latest:
        raise InvalidInput(
            FieldError(
                "paused_until",
                f"must be at most {PAUSE_MAX_DAYS} days ahead (on or before {latest.isoformat()})",
            )
        )


def saved_change(
    *, session: Session, customer_id: int, version: int
) -> tuple[PreferenceDocument, PreferenceDocument] | None:
    """The customer's preferences before and after their own ``version``, to tell it back."""
    rows = session.scalars(
        select(PreferenceVersion)
        .where(
            PreferenceVersion.customer_id == customer_id,
            PreferenceVersion.version.in_((version - 1, version)),
        )
        .order_by(PreferenceVersion.version)
    ).all()
    documents = {row.version: PreferenceDocument.model_validate(row.document) for row in rows}
    if version not in documents:
        return None
    return documents.get(version - 1, PreferenceDocument()), documents[version]


def preference_history(*, session: Session, customer_id: int) -> list[PreferenceVersion]:
    return list(
        session.scalars(
            select(PreferenceVersion)
            .where(PreferenceVersion.customer_id == customer_id)
            .order_by(PreferenceVersion.version.desc())
        )
    )


# The choices the preference centre offers, so the customer picks instead of typing.
QUIET_PRESETS: tuple[QuietHours, ...] = tuple(
    QuietHours(start=time(start), end=time(end)) for start, end in ((21, 8), (22, 7), (20, 9))
)
PAUSE_CHOICES = ("week", "month", "three_months")


def pause_until(choice: str, *, today: date) -> date:
    """The last day of a pause chosen as "a week", "a month" or "three months" from today."""
    if choice == "week":
        return today + timedelta(days=7)
    months = {"month": 1, "three_months": 3}.get(choice)
    if months is None:
        raise InvalidInput(FieldError("pause", f"use one of {', '.join(PAUSE_CHOICES)}"))
    month_index = today.month - 1 + months
    year, month = today.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(today.day, monthrange(year, month)[1]))


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    # Only real countries: CLDR also files Etc/GMT+5 and friends under "001" and "ZZ".
    return {
        country: tuple(zones)
        for country, zones in get_global("territory_zones").items()
        if len(country) == 2 and country.isalpha() and country != "ZZ"
    }


@cache
def time_zones() -> tuple[str, ...]:
    """The zones a customer can pick: the canonical zone of every country (CLDR), plus UTC.

    ``available_timezones()`` also holds aliases (``US/Eastern``, ``Etc/GMT+5``, ``CET``) that
    only confuse a customer; CLDR's per-country list names each place once."""
    canonical = {zone for zones in _zones_by_country().values() for zone in zones}
    return tuple(sorted(canonical & available_timezones() | {"UTC"}))


def zones_for_country(country: str | None) -> tuple[str, ...]:
    """The zones of one country (ISO 3166 code), to show first; empty when unknown."""
    return _zones_by_country().get((country or "").upper(), ())


def country_of_zone(zone: str) -> str | None:
    """The country a canonical zone belongs to (``Europe/Copenhagen`` is DK), if any."""
    return next((c for c, zones in _zones_by_country().items() if zone in zones), None)
