"""Inputs and outputs of the contact policy: small frozen dataclasses, no I/O.

Every instant is an aware ``datetime``; naive ones are refused at construction because a
naive timestamp next to a customer's own time zone is exactly the bug this module exists to
avoid.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel, Period

DIALOGUE_PURPOSE = "research"  # the consent catalogue's research / dialogue purpose
CAPPED_KINDS = frozenset({MessageKind.marketing, MessageKind.dialogue})


class ConsentStatus(enum.StrEnum):
    GRANTED = "granted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class Outcome(enum.StrEnum):
    ALLOWED = "allowed"
    DEFERRED = "deferred"
    DENIED = "denied"


class CheckStatus(enum.StrEnum):
    OK = "ok"
    SKIP = "skip"  # the rule does not apply to this kind of message
    DEFER = "defer"
    DENY = "deny"


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock window ``[start, end)``; ``start > end`` spans midnight.

    Minute resolution keeps the batch schema small (minutes of the day); equal start and end
    would be an empty window and is refused so "no quiet hours" has one spelling: ``None``.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if value.second or value.microsecond or value.tzinfo is not None:
                raise ValueError("quiet hours are whole local minutes without tzinfo")
        if self.start == self.end:
            raise ValueError("quiet hours need start != end; use None for no quiet hours")

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        return self.end.hour * 60 + self.end.minute


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most ``limit`` capped sends per rolling ``period``; ``channel=None`` is overall."""

    channel: OutboundChannel | None
    limit: int
    period: Period

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError("a cap limit cannot be negative")


@dataclass(frozen=True, slots=True)
class CappedSend:
    """One earlier marketing or dialogue send (the only kinds that count towards caps)."""

    at: datetime
    channel: OutboundChannel

    def __post_init__(self) -> None:
        _require_aware("CappedSend.at", self.at)


@dataclass(frozen=True)
class ContactState:
    """Everything the policy knows about one customer at decision time."""

    customer_id: str
    time_zone: str = "UTC"
    erased: bool = False
    suppressed: bool = False
    consents: Mapping[str, ConsentStatus] = field(default_factory=dict)
    objected_to_marketing: bool = False
    dialogues_off: bool = False  # the customer turned dialogue questions off
    allowed_channels: frozenset[OutboundChannel] = frozenset()
    reachable_channels: frozenset[OutboundChannel] = frozenset()
    opted_out_topics: frozenset[str] = frozenset()
    chosen_topics: frozenset[str] | None = None  # None: never chose, so every topic is fine
    pause_until: datetime | None = None
    quiet_hours: QuietHours | None = None
    caps: tuple[FrequencyCap, ...] = ()
    capped_sends: tuple[CappedSend, ...] = ()

    def __post_init__(self) -> None:
        _require_aware("pause_until", self.pause_until)
        ZoneInfo(self.time_zone)  # fail early on a misspelt zone, not at 21:00
        scopes = [(cap.channel, cap.period) for cap in self.caps]
        if len(scopes) != len(set(scopes)):
            raise ValueError("at most one cap per (channel, period)")


@dataclass(frozen=True, slots=True)
class Intent:
    """One intended message. ``priority`` orders a sender's queue; it never overrides a rule."""

    purpose: str
    kind: MessageKind
    channel: OutboundChannel
    topic: str
    at: datetime
    priority: int = 0

    def __post_init__(self) -> None:
        _require_aware("Intent.at", self.at)
        if self.kind is MessageKind.dialogue and self.purpose != DIALOGUE_PURPOSE:
            raise ValueError(f"dialogue messages use the {DIALOGUE_PURPOSE!r} purpose")


@dataclass(frozen=True, slots=True)
class CompanyCap:
    """Company-wide cap on capped sends per customer, e.g. two marketing emails a week."""

    channel: OutboundChannel | None
    limit: int
    period: Period
    promise: str | None = None  # the company promise it keeps; holds say ``promise:<key>``

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError("a cap limit cannot be negative")


@dataclass(frozen=True)
class CompanyPolicy:
    purposes: Mapping[str, LegalBasis]
    caps: tuple[CompanyCap, ...] = ()
    # The key of the company's quiet-hours promise: a marketing or dialogue message inside the
    # customer's quiet hours is then held with ``promise:<key>`` (the company's rule), not
    # ``quiet_hours`` (the customer's own).
    quiet_hours_promise: str | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One rule's verdict, kept so the customer can see every reason, not just the first."""

    name: str
    status: CheckStatus
    reason: str | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: str | None  # the decisive reason code; None when allowed
    defer_until: datetime | None  # UTC; only when deferred
    checks: tuple[Check, ...] = ()
