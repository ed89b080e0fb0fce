"""The contact policy applied to stored customers: load each customer's state
(:mod:`tillit.contact.state`), decide, and log real decisions (:mod:`tillit.contact.log`).

The policy itself (:mod:`tillit.contact.policy`, :mod:`tillit.contact.batch`) stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.models import Purpose
from tillit.contact.batch import decide_batch
from tillit.contact.log import log_decision
from tillit.contact.models import (
    DIALOGUE_PURPOSE,
    CompanyCap,
    CompanyPolicy,
    ContactState,
    Decision,
    Intent,
)
from tillit.contact.policy import decide
from tillit.contact.reasons import UNKNOWN_CUSTOMER
from tillit.contact.schema import states_to_table
from tillit.contact.state import load_contact_state, load_contact_states
from tillit.errors import FieldError, InvalidInput
from tillit.late_registry import LateRegistry
from tillit.storage.base import utcnow
from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel

# When an intended message may be decided for: a time near either end of the calendar made the
# policy's own arithmetic (the day's quiet hours, a cap's window) overflow.
EARLIEST_AT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AT_AHEAD = timedelta(days=3653)


# Built once, run on the session's connection: a single decision is a few index lookups and
# building and ORM-loading the statements anew each time cost as much as running them.
_ACTIVE_PURPOSES = select(Purpose.key, Purpose.legal_basis).where(Purpose.active.is_(True))


@dataclass(frozen=True)
class CompanyRules:
    """The company's own rules from its promises: caps (each naming its promise) and the key
    of its quiet-hours promise."""

    caps: tuple[CompanyCap, ...]
    quiet_hours_promise: str | None


# Promises (tillit.promises.rules) add the provider of the company's rules; without one, or
# while it answers None (no catalogue yet), TILLIT_COMPANY_CAPS are the company caps.
COMPANY_RULES: LateRegistry[Callable[[Session, Settings], CompanyRules | None]] = LateRegistry(
    "tillit.promises.rules"
)


def company_policy(*, session: Session, settings: Settings) -> CompanyPolicy:
    purposes = {
        key: LegalBasis(str(basis)) for key, basis in session.connection().execute(_ACTIVE_PURPOSES)
    }
    for provider in COMPANY_RULES.entries():
        rules = provider(session, settings)
        if rules is not None:
            return CompanyPolicy(
                purposes=purposes, caps=rules.caps, quiet_hours_promise=rules.quiet_hours_promise
            )
    caps = tuple(CompanyCap(*cap) for cap in settings.company_cap_limits)
    return CompanyPolicy(purposes=purposes, caps=caps)


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
        kind_value = MessageKind(kind)
    except ValueError:
        errors.append(
            FieldError("kind", f"must be one of {', '.join(k.value for k in MessageKind)}")
        )
    try:
        channel_value = OutboundChannel(channel)
    except ValueError:
        errors.append(
            FieldError("channel", f"must be one of {', '.join(c.value for c in OutboundChannel)}")
        )
    if at is not None and at.utcoffset() is None:
        errors.append(FieldError("at", "needs a time zone offset, e.g. 2026-11-23T10:00:00Z"))
    elif at is not None and not EARLIEST_AT <= at <= utcnow() + LATEST_AT_AHEAD:
        errors.append(FieldError("at", f"must be from {EARLIEST_AT.year} to ten years ahead"))
    if errors:
        raise InvalidInput(errors)
    if kind_value is MessageKind.dialogue and purpose != DIALOGUE_PURPOSE:
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
    return load_contact_state(session, customer_id, secret_key=settings.secret_key, now=now)


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
        states = load_contact_states(session, part, secret_key=settings.secret_key, now=intent.at)
        result: pa.Table = decide_batch(
            states=states_to_table(states.values()), intent=intent, policy=policy
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
        for channel in OutboundChannel
    ]
    counts = dict.fromkeys((intent.channel.value for intent in intents), 0)
    ids = list(dict.fromkeys(customer_ids))
    for start in range(0, len(ids), chunk):
        states = load_contact_states(
            session, ids[start : start + chunk], secret_key=settings.secret_key, now=at
        )
        table = states_to_table(states.values())
        for intent in intents:
            result: pa.Table = decide_batch(states=table, intent=intent, policy=policy)
            outcomes = result.column("outcome").to_pylist()
            counts[intent.channel.value] += sum(outcome == "allowed" for outcome in outcomes)
    return counts
