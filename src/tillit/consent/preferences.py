"""The customer's own rules: channels, caps, quiet hours, topics, pause, language, dialogues.

Each change stores the whole document as a new version; the newest version is current and
the older ones are the history the customer and staff can read.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.config import LANGUAGES
from tillit.consent.models import PreferenceVersion
from tillit.customers.models import Customer
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.storage.base import utcnow


class Channel(StrEnum):
    email = "email"
    sms = "sms"
    push = "push"
    phone = "phone"
    post = "post"
    social = "social"
    in_app = "in_app"


CHANNELS = tuple(Channel)


class Cap(BaseModel):
    """At most ``count`` messages per ``period``."""

    model_config = ConfigDict(frozen=True)
    count: int = Field(ge=0, le=1000)
    period: Literal["day", "week", "month"]


class QuietHours(BaseModel):
    """Local times in the customer's zone; ``start`` after ``end`` wraps past midnight."""

    model_config = ConfigDict(frozen=True)
    start: time
    end: time


class PreferenceDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[Channel, bool] = Field(default_factory=lambda: dict.fromkeys(CHANNELS, True))
    caps: dict[Channel, Cap] = Field(default_factory=dict)
    overall_cap: Cap | None = None
    quiet_hours: QuietHours | None = None
    time_zone: str | None = None  # None: the customer's profile zone
    topics: list[str] | None = None  # None: every topic in the catalogue
    paused_until: date | None = None
    language: str | None = None
    channel_order: list[Channel] = Field(default_factory=list)
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
    def _unique_order(cls, value: list[Channel]) -> list[Channel]:
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
    merged = {**before.model_dump(mode="json"), **changes}
    try:
        after = PreferenceDocument.model_validate(merged)
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(".".join(str(p) for p in item["loc"]) or "preferences", item["msg"])
                for item in error.errors()
            ]
        ) from error
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = sorted(key for key in new if new[key] != old[key])
    if not changed:
        return None
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


def preference_history(*, session: Session, customer_id: int) -> list[PreferenceVersion]:
    return list(
        session.scalars(
            select(PreferenceVersion)
            .where(PreferenceVersion.customer_id == customer_id)
            .order_by(PreferenceVersion.version.desc())
        )
    )
