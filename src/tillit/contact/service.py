"""The contact policy applied to stored customers: build each customer's state from the
consent ledger, preferences, identities and send history, decide, and log real decisions.

This is the one module in ``tillit.contact`` that touches the database; the policy itself
(:mod:`tillit.contact.policy`, :mod:`tillit.contact.batch`) stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.contact_state import load_contact_state, load_contact_states
from tillit.consent.decision_log import log_decision
from tillit.consent.models import Purpose, Send
from tillit.contact.batch import decide_batch
from tillit.contact.company import parse_company_caps
from tillit.contact.models import (
    CAPPED_KINDS,
    DIALOGUE_PURPOSE,
    Channel,
    CompanyPolicy,
    ConsentStatus,
    ContactState,
    Decision,
    FrequencyCap,
    Intent,
    Kind,
    LegalBasis,
    Period,
    QuietHours,
)
from tillit.contact.models import Send as PolicySend
from tillit.contact.policy import decide
from tillit.contact.schema import states_to_table
from tillit.errors import FieldError, InvalidInput
from tillit.storage.base import utcnow

# Ledger decisions that count as "no" for a purpose; an objection is a withdrawal with force.
_REFUSALS = {
    "withdrawn": ConsentStatus.WITHDRAWN,
    "objected": ConsentStatus.WITHDRAWN,
    "denied": ConsentStatus.DENIED,
    "granted": ConsentStatus.GRANTED,
}
UNKNOWN_CUSTOMER = "unknown_customer"  # an audience id with no customer behind it
CAP_HISTORY = timedelta(days=31)  # the longest cap window is a 30-day month
# A pause ending later than this is "paused indefinitely": clamped here, a year short of the
# calendar's end, so arithmetic on it (a zone's offset, a day's length) cannot overflow.
PAUSE_END_LIMIT = datetime(9999, 1, 1, tzinfo=UTC)
# When an intended message may be decided for: a time near either end of the calendar made the
# policy's own arithmetic (the day's quiet hours, a cap's window) overflow.
EARLIEST_AT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AT_AHEAD = timedelta(days=3653)


# Built once, run on the session's connection: a single decision is a few index lookups and
# building and ORM-loading the statements anew each time cost as much as running them.
_ACTIVE_PURPOSES = select(Purpose.key, Purpose.legal_basis).where(Purpose.active.is_(True))
_CAPPED_SENDS = (
    select(Send.customer_id, Send.sent_at, Send.channel)
    .where(
        Send.customer_id.in_(bindparam("ids", expanding=True)),
        Send.sent_at >= bindparam("since"),
        Send.kind.in_([k.value for k in CAPPED_KINDS]),
    )
    .order_by(Send.sent_at)
)


def company_policy(*, session: Session, settings: Settings) -> CompanyPolicy:
    purposes = {
        key: LegalBasis(str(basis)) for key, basis in session.connection().execute(_ACTIVE_PURPOSES)
    }
    return CompanyPolicy(purposes=purposes, caps=parse_company_caps(settings.company_caps))


def make_intent(
    *,
    purpose: str,
    kind: str,
    channel: str,
    topic: str | None,
    at: datetime | None = None,
    priority: int = 0,
) -> Intent:
    errors = []
    try:
        kind_value = Kind(kind)
    except ValueError:
        errors.append(FieldError("kind", f"must be one of {', '.join(k.value for k in Kind)}"))
    try:
        channel_value = Channel(channel)
    except ValueError:
        errors.append(
            FieldError("channel", f"must be one of {', '.join(c.value for c in Channel)}")
        )
    if at is not None and at.utcoffset() is None:
        errors.append(FieldError("at", "needs a time zone offset, e.g. 2026-11-23T10:00:00Z"))
    elif at is not None and not EARLIEST_AT <= at <= utcnow() + LATEST_AT_AHEAD:
        errors.append(FieldError("at", f"must be from {EARLIEST_AT.year} to ten years ahead"))
    if errors:
        raise InvalidInput(errors)
    if kind_value is Kind.DIALOGUE and purpose != DIALOGUE_PURPOSE:
        raise InvalidInput(FieldError("purpose", f"dialogue messages use {DIALOGUE_PURPOSE!r}"))
    return Intent(
        purpose=purpose,
        kind=kind_value,
        channel=channel_value,
        topic=topic or "",
        at=at or utcnow(),
        priority=priority,
    )


def contact_state(
    *, session: Session, customer_id: int, settings: Settings, now: datetime | None = None
) -> ContactState:
    raw = load_contact_state(
        session, customer_id, secret_key=settings.secret_key, now=now, lean=True
    )
    return state_from_record(
        raw, capped_sends=_capped_sends(session, [customer_id], now)[customer_id]
    )


def state_from_record(
    raw: dict[str, Any], *, capped_sends: list[tuple[datetime, str]]
) -> ContactState:
    consents = {
        key: _REFUSALS[entry["decision"]]
        for key, entry in raw["consents"].items()
        if entry["decision"] in _REFUSALS
    }
    channels = raw["channels"]
    zone = raw["time_zone"]
    return ContactState(
        customer_id=str(raw["customer_id"]),
        time_zone=zone,
        erased=raw["erased"],
        suppressed=raw["suppressed"],
        consents=consents,
        objected_to_marketing=raw["objected_to_marketing"],
        dialogues_off=not raw["dialogues"],
        allowed_channels=frozenset(Channel(c) for c, v in channels.items() if v["allowed"]),
        reachable_channels=frozenset(Channel(c) for c, v in channels.items() if v["reachable"]),
        chosen_topics=None if raw["topics"] is None else frozenset(raw["topics"]),
        pause_until=_pause_end(raw["paused_until"], zone),
        quiet_hours=_quiet_hours(raw["quiet_hours"]),
        caps=_caps(raw["caps"], raw["overall_cap"]),
        capped_sends=tuple(PolicySend(at=at, channel=Channel(ch)) for at, ch in capped_sends),
    )


@dataclass(frozen=True)
class Decided:
    decision: Decision
    logged_id: int | None  # the stored decision, when the caller means to send


def decide_for(
    *,
    session: Session,
    customer_id: int,
    purpose: str,
    kind: str,
    channel: str,
    topic: str | None,
    settings: Settings,
    at: datetime | None = None,
    priority: int = 0,
    log: bool = False,
) -> Decided:
    """Decide one intended message; with ``log`` (a real send is intended) the decision is
    stored, so the customer sees it in their preference centre."""
    intent = make_intent(
        purpose=purpose, kind=kind, channel=channel, topic=topic, at=at, priority=priority
    )
    state = contact_state(
        session=session, customer_id=customer_id, settings=settings, now=intent.at
    )
    decision = decide(
        state=state, intent=intent, policy=company_policy(session=session, settings=settings)
    )
    if not log:
        return Decided(decision=decision, logged_id=None)
    logged = log_decision(
        session=session,
        customer_id=customer_id,
        channel=channel,
        kind=kind,
        outcome=decision.outcome.value,
        reasons=[decision.reason] if decision.reason else [],
        purpose_key=purpose,
        topic=topic,
        defer_until=decision.defer_until,
        decided_at=intent.at,
    )
    return Decided(decision=decision, logged_id=logged.id)


def decide_audience(
    *,
    session: Session,
    customer_ids: Iterable[int],
    intent: Intent,
    settings: Settings,
    chunk: int = 5000,
) -> Iterator[dict[str, Any]]:
    """Decide for many customers, a chunk at a time through the vectorised batch form."""
    policy = company_policy(session=session, settings=settings)
    ids = list(dict.fromkeys(customer_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        raw = load_contact_states(session, part, secret_key=settings.secret_key)
        sends = _capped_sends(session, list(raw), intent.at)
        states = [state_from_record(raw[cid], capped_sends=sends[cid]) for cid in raw]
        result: pa.Table = decide_batch(
            states=states_to_table(states), intent=intent, policy=policy
        )
        decided = {int(row["customer_id"]): row for row in result.to_pylist()}
        for customer_id in part:  # in the order asked, unknown ids included
            row = decided.get(customer_id)
            if row is None:  # never contact someone Tillit does not know
                yield {
                    "customer_id": customer_id,
                    "outcome": "denied",
                    "reason": UNKNOWN_CUSTOMER,
                    "defer_until": None,
                }
                continue
            yield {
                "customer_id": customer_id,
                "outcome": row["outcome"],
                "reason": row["reason"] or None,
                "defer_until": row["defer_until"].isoformat() if row["defer_until"] else None,
            }


def allowed_by_channel(
    *,
    session: Session,
    customer_ids: Iterable[int],
    purpose: str,
    kind: str,
    at: datetime,
    settings: Settings,
    chunk: int = 5000,
) -> dict[str, int]:
    """How many of the customers a message of ``kind`` for ``purpose`` may reach now, on each
    channel: the whole policy (consent, the channel allowed and reachable, pauses, caps), with
    each customer's state loaded once for all channels."""
    policy = company_policy(session=session, settings=settings)
    intents = [
        make_intent(purpose=purpose, kind=kind, channel=channel.value, topic=None, at=at)
        for channel in Channel
    ]
    counts = dict.fromkeys((intent.channel.value for intent in intents), 0)
    ids = list(dict.fromkeys(customer_ids))
    for start in range(0, len(ids), chunk):
        raw = load_contact_states(
            session, ids[start : start + chunk], secret_key=settings.secret_key
        )
        sends = _capped_sends(session, list(raw), at)
        table = states_to_table([state_from_record(raw[c], capped_sends=sends[c]) for c in raw])
        for intent in intents:
            result: pa.Table = decide_batch(states=table, intent=intent, policy=policy)
            outcomes = result.column("outcome").to_pylist()
            counts[intent.channel.value] += sum(outcome == "allowed" for outcome in outcomes)
    return counts


def _capped_sends(
    session: Session, customer_ids: list[int], now: datetime | None
) -> dict[int, list[tuple[datetime, str]]]:
    since = (now or utcnow()) - CAP_HISTORY
    found: dict[int, list[tuple[datetime, str]]] = {cid: [] for cid in customer_ids}
    rows = session.connection().execute(_CAPPED_SENDS, {"ids": customer_ids, "since": since})
    for customer_id, sent_at, channel in rows:
        if channel in Channel._value2member_map_:
            found[customer_id].append((sent_at, channel))
    return found


def _pause_end(paused_until: Any, zone: str) -> datetime | None:
    """A pause "until 3 March" includes 3 March: messages resume at local midnight after it.

    Input is bounded (:data:`tillit.consent.preferences.PAUSE_MAX_DAYS`), but rows stored before
    that bound may hold a pause as far as 9999-12-31, whose next midnight does not exist: such a
    pause is clamped to :data:`PAUSE_END_LIMIT`, so one customer's row can never break a decision.
    """
    if paused_until is None:
        return None
    try:
        if isinstance(paused_until, datetime):
            return min(paused_until.astimezone(UTC), PAUSE_END_LIMIT)
        resume = datetime.combine(
            paused_until + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)
        ).astimezone(UTC)
    except OverflowError:
        return PAUSE_END_LIMIT
    return min(resume, PAUSE_END_LIMIT)


def _quiet_hours(raw: dict[str, time] | None) -> QuietHours | None:
    if raw is None or raw["start"] == raw["end"]:
        return None
    return QuietHours(
        start=raw["start"].replace(second=0, microsecond=0),
        end=raw["end"].replace(second=0, microsecond=0),
    )


def _caps(
    per_channel: dict[str, dict[str, Any]], overall: dict[str, Any] | None
) -> tuple[FrequencyCap, ...]:
    caps = [
        FrequencyCap(channel=Channel(channel), limit=cap["count"], period=Period(cap["period"]))
        for channel, cap in per_channel.items()
        if channel in Channel._value2member_map_
    ]
    if overall:
        caps.append(
            FrequencyCap(channel=None, limit=overall["count"], period=Period(overall["period"]))
        )
    return tuple(caps)
