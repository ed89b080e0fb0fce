"""Everything the contact policy needs to know about stored customers, as :class:`ContactState`.

The state of one customer and of a chunk of an audience is read the same way: a handful of
set-based Core queries (no ORM entities), so a single decision over HTTP costs a few small
index lookups and an audience costs the same queries per chunk, not per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from tillit.consent.models import ConsentDecision, ConsentRecord, PreferenceVersion, Suppression
from tillit.consent.preferences import Cap, PreferenceDocument
from tillit.consent.preferences import QuietHours as PreferredQuietHours
from tillit.consent.suppression import contact_point_hash
from tillit.contact.models import (
    CAPPED_KINDS,
    CappedSend,
    ConsentStatus,
    ContactState,
    FrequencyCap,
    QuietHours,
)
from tillit.contact.tables import DeliveryFailure, SendRecord
from tillit.customers.models import Customer, CustomerStatus, Identity, IdentityType
from tillit.errors import NotFound
from tillit.storage.base import utcnow
from tillit.vocabulary import OutboundChannel

# Which identities make a channel reachable (post: a postal address among the traits); a
# channel not named here reaches no one until it is.
REACHING: dict[OutboundChannel, set[str]] = {
    OutboundChannel.email: {IdentityType.email},
    OutboundChannel.sms: {IdentityType.phone},
    OutboundChannel.phone: {IdentityType.phone},
    OutboundChannel.push: {IdentityType.device_id},
    OutboundChannel.in_app: {IdentityType.user_id, IdentityType.device_id},
    OutboundChannel.social: {IdentityType.social_handle},
}
POSTAL_TRAITS = ("postal_address", "address")
# Failed deliveries (each after every retry) to one contact point, with no delivery between
# them, after which the point counts as unreachable on that channel; one bounce is enough.
SOFT_FAILURE_LIMIT = 3
_NO_PREFERENCES = PreferenceDocument()
# How the latest ledger decision on a purpose reads to the policy; an objection is a
# withdrawal with force.
_CONSENT_STATUS = {
    ConsentDecision.granted: ConsentStatus.GRANTED,
    ConsentDecision.denied: ConsentStatus.DENIED,
    ConsentDecision.withdrawn: ConsentStatus.WITHDRAWN,
    ConsentDecision.objected: ConsentStatus.WITHDRAWN,
}
CAP_HISTORY = timedelta(days=31)  # the longest cap window is a 30-day month
# A pause ending later than this is "paused indefinitely": clamped here, a year short of the
# calendar's end, so arithmetic on it (a zone's offset, a day's length) cannot overflow.
PAUSE_END_LIMIT = datetime(9999, 1, 1, tzinfo=UTC)

# Built once: a decision is a handful of index lookups, and building the statements anew
# each time cost as much as running them. ``ids`` expands to the chunk of customer ids.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_CUSTOMERS = select(Customer.id, Customer.status, Customer.time_zone, Customer.traits).where(
    Customer.id.in_(_IDS)
)
_IDENTITIES = select(Identity.customer_id, Identity.type, Identity.value).where(
    Identity.customer_id.in_(_IDS)
)
_CONSENTS = (
    select(ConsentRecord.customer_id, ConsentRecord.purpose_key, ConsentRecord.decision)
    .where(ConsentRecord.customer_id.in_(_IDS))
    .order_by(ConsentRecord.customer_id, ConsentRecord.sequence)
)
_NEWEST_PREFERENCES = (
    select(PreferenceVersion.customer_id, func.max(PreferenceVersion.version).label("version"))
    .where(PreferenceVersion.customer_id.in_(_IDS))
    .group_by(PreferenceVersion.customer_id)
    .subquery()
)
_PREFERENCES = select(PreferenceVersion.customer_id, PreferenceVersion.document).join(
    _NEWEST_PREFERENCES,
    (PreferenceVersion.customer_id == _NEWEST_PREFERENCES.c.customer_id)
    & (PreferenceVersion.version == _NEWEST_PREFERENCES.c.version),
)
_FAILURES = select(
    DeliveryFailure.customer_id,
    DeliveryFailure.channel,
    DeliveryFailure.point_hash,
    DeliveryFailure.permanent,
).where(DeliveryFailure.customer_id.in_(_IDS))
# (type, hash) pairs: the lookup uses the unique index on both columns.
_SUPPRESSED = select(Suppression.identity_type, Suppression.value_hash).where(
    tuple_(Suppression.identity_type, Suppression.value_hash).in_(
        bindparam("pairs", expanding=True)
    )
)
_CAPPED_SENDS = (
    select(SendRecord.customer_id, SendRecord.sent_at, SendRecord.channel)
    .where(
        SendRecord.customer_id.in_(_IDS),
        SendRecord.sent_at >= bindparam("since"),
        SendRecord.kind.in_([k.value for k in CAPPED_KINDS]),
    )
    .order_by(SendRecord.sent_at)
)


def load_contact_state(
    session: Session, customer_id: int, *, secret_key: str, now: datetime | None = None
) -> ContactState:
    """The customer's status, consents, channels, topics, pause, quiet hours, caps and the
    capped sends of the month before ``now``.

    Contact points found in the suppression list also mark the customer suppressed (a
    re-imported address of someone erased stays uncontactable).
    """
    found = load_contact_states(session, [customer_id], secret_key=secret_key, now=now)
    if customer_id not in found:
        raise NotFound(f"customer {customer_id} does not exist")
    return found[customer_id]


def load_contact_states(
    session: Session,
    customer_ids: Sequence[int],
    *,
    secret_key: str,
    now: datetime | None = None,
) -> dict[int, ContactState]:
    """:func:`load_contact_state` for many customers at once; unknown ids are absent."""
    ids = {"ids": list(dict.fromkeys(customer_ids))}
    # The connection, not the session: plain rows, without the ORM's per-statement work.
    connection = session.connection()
    customers = connection.execute(_CUSTOMERS, ids).all()
    if not customers:
        return {}
    identities: dict[int, list[tuple[str, str]]] = {}
    for customer_id, kind, value in connection.execute(_IDENTITIES, ids):
        identities.setdefault(customer_id, []).append((str(kind), value))
    consents: dict[int, dict[str, str]] = {}
    # Later records overwrite earlier ones: the latest per purpose is current.
    for customer_id, purpose, decision in connection.execute(_CONSENTS, ids):
        consents.setdefault(customer_id, {})[purpose] = str(decision)
    preferences = {
        customer_id: PreferenceDocument.model_validate(document)
        for customer_id, document in connection.execute(_PREFERENCES, ids)
    }
    suppressed = _on_suppression_list(connection, identities, secret_key)
    undeliverable = _undeliverable(connection, ids, identities, secret_key)
    sends = _capped_sends(connection, [row[0] for row in customers], now)
    return {
        customer_id: _state(
            customer_id=customer_id,
            status=CustomerStatus(status),
            time_zone=time_zone,
            traits=traits or {},
            identities=identities.get(customer_id, []),
            consents=consents.get(customer_id, {}),
            preferences=preferences.get(customer_id, _NO_PREFERENCES),
            on_suppression_list=customer_id in suppressed,
            capped_sends=sends[customer_id],
            undeliverable=undeliverable.get(customer_id, frozenset()),
        )
        for customer_id, status, time_zone, traits in customers
    }


def _state(
    *,
    customer_id: int,
    status: CustomerStatus,
    time_zone: str,
    traits: dict[str, Any],
    identities: list[tuple[str, str]],
    consents: dict[str, str],
    preferences: PreferenceDocument,
    on_suppression_list: bool,
    capped_sends: tuple[CappedSend, ...],
    undeliverable: frozenset[OutboundChannel] = frozenset(),
) -> ContactState:
    kinds = {kind for kind, _ in identities}
    zone = preferences.time_zone or time_zone
    return ContactState(
        customer_id=str(customer_id),
        time_zone=zone,
        erased=status == CustomerStatus.erased,
        suppressed=status == CustomerStatus.suppressed or on_suppression_list,
        consents={
            purpose: _CONSENT_STATUS[ConsentDecision(decision)]
            for purpose, decision in consents.items()
            if decision in _CONSENT_STATUS
        },
        objected_to_marketing=consents.get("marketing") == ConsentDecision.objected,
        dialogues_off=not preferences.dialogues,
        allowed_channels=frozenset(
            channel for channel in OutboundChannel if preferences.channels.get(channel, True)
        ),
        reachable_channels=frozenset(
            channel
            for channel in OutboundChannel
            if _reachable(channel, kinds, traits) and channel not in undeliverable
        ),
        chosen_topics=None if preferences.topics is None else frozenset(preferences.topics),
        pause_until=_pause_end(preferences.paused_until, zone),
        quiet_hours=_quiet_hours(preferences.quiet_hours),
        caps=_caps(preferences.caps, preferences.overall_cap),
        capped_sends=capped_sends,
    )


def _reachable(channel: OutboundChannel, kinds: set[str], traits: dict[str, Any]) -> bool:
    if channel is OutboundChannel.post:
        return any(traits.get(name) for name in POSTAL_TRAITS)
    return bool(REACHING.get(channel, set()) & kinds)


def _undeliverable(
    connection: Connection,
    ids: dict[str, list[int]],
    identities: dict[int, list[tuple[str, str]]],
    secret_key: str,
) -> dict[int, frozenset[OutboundChannel]]:
    """The channels on which every contact point a customer has bounced, or failed
    :data:`SOFT_FAILURE_LIMIT` times (:class:`tillit.contact.tables.DeliveryFailure`)."""
    failures: dict[tuple[int, str, str], int] = {}
    for customer_id, channel, point, permanent in connection.execute(_FAILURES, ids):
        key = (customer_id, channel, point)
        failures[key] = failures.get(key, 0) + (SOFT_FAILURE_LIMIT if permanent else 1)
    blocked = {key for key, weight in failures.items() if weight >= SOFT_FAILURE_LIMIT}
    found: dict[int, frozenset[OutboundChannel]] = {}
    for customer_id in {key[0] for key in blocked}:
        channels = set()
        for channel in {key[1] for key in blocked if key[0] == customer_id}:
            if channel not in OutboundChannel._value2member_map_:
                continue
            reaching = REACHING.get(OutboundChannel(channel), set())
            points = [
                contact_point_hash(kind, value, secret_key)
                for kind, value in identities.get(customer_id, [])
                if kind in reaching
            ]
            if points and all((customer_id, channel, point) in blocked for point in points):
                channels.add(OutboundChannel(channel))
        found[customer_id] = frozenset(channels)
    return found


def _on_suppression_list(
    connection: Connection, identities: dict[int, list[tuple[str, str]]], secret_key: str
) -> set[int]:
    """Customers any of whose contact points is on the suppression list."""
    owners: dict[tuple[str, str], set[int]] = {}
    for customer_id, points in identities.items():
        for kind, value in points:
            owners.setdefault((kind, contact_point_hash(kind, value, secret_key)), set()).add(
                customer_id
            )
    if not owners:
        return set()
    listed = connection.execute(_SUPPRESSED, {"pairs": list(owners)})
    return {customer_id for pair in listed for customer_id in owners[(pair[0], pair[1])]}


def _capped_sends(
    connection: Connection, customer_ids: list[int], now: datetime | None
) -> dict[int, tuple[CappedSend, ...]]:
    since = (now or utcnow()) - CAP_HISTORY
    found: dict[int, list[CappedSend]] = {customer_id: [] for customer_id in customer_ids}
    rows = connection.execute(_CAPPED_SENDS, {"ids": customer_ids, "since": since})
    for customer_id, sent_at, channel in rows:
        if channel in OutboundChannel._value2member_map_:
            found[customer_id].append(CappedSend(at=sent_at, channel=OutboundChannel(channel)))
    return {customer_id: tuple(sends) for customer_id, sends in found.items()}


def _pause_end(paused_until: date | None, zone: str) -> datetime | None:
    """A pause "until 3 March" includes 3 March: messages resume at local midnight after it.

    Input is bounded (:data:`tillit.consent.preferences.PAUSE_MAX_DAYS`), but rows stored before
    that bound may hold a pause as far as 9999-12-31, whose next midnight does not exist: such a
    pause is clamped to :data:`PAUSE_END_LIMIT`, so one customer's row can never break a decision.
    """
    if paused_until is None:
        return None
    try:
        resume = datetime.combine(
            paused_until + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)
        ).astimezone(UTC)
    except OverflowError:
        return PAUSE_END_LIMIT
    return min(resume, PAUSE_END_LIMIT)


def _quiet_hours(preferred: PreferredQuietHours | None) -> QuietHours | None:
    if preferred is None or preferred.start == preferred.end:
        return None
    return QuietHours(
        start=preferred.start.replace(second=0, microsecond=0),
        end=preferred.end.replace(second=0, microsecond=0),
    )


def _caps(per_channel: dict[OutboundChannel, Cap], overall: Cap | None) -> tuple[FrequencyCap, ...]:
    caps = [
        FrequencyCap(channel=channel, limit=cap.count, period=cap.period)
        for channel, cap in per_channel.items()
    ]
    if overall:
        caps.append(FrequencyCap(channel=None, limit=overall.count, period=overall.period))
    return tuple(caps)
