"""Everything the contact policy needs to know about customers, as plain dicts.

The state of one customer and of a chunk of an audience is read the same way: a handful of
set-based Core queries (no ORM entities), so a single decision over HTTP costs a few small
index lookups and an audience costs the same queries per chunk, not per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from tillit.consent.decision_log import recent_sends
from tillit.consent.models import ConsentRecord, Decision, PreferenceVersion, Purpose, Suppression
from tillit.consent.preferences import CHANNELS, PreferenceDocument
from tillit.consent.suppression import contact_point_hash
from tillit.customers.models import Customer, CustomerStatus, Identity, IdentityType
from tillit.errors import NotFound

# Which identities make a channel reachable.
REACHING: dict[str, set[str]] = {
    "email": {IdentityType.email},
    "sms": {IdentityType.phone},
    "phone": {IdentityType.phone},
    "push": {IdentityType.device_id},
    "in_app": {IdentityType.user_id, IdentityType.device_id},
    "social": {IdentityType.social_handle},
}
POSTAL_TRAITS = ("postal_address", "address")
_NO_PREFERENCES = PreferenceDocument()

# Built once: a decision is a handful of index lookups, and building the statements anew
# each time cost as much as running them. ``ids`` expands to the chunk of customer ids.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_CUSTOMERS = select(
    Customer.id, Customer.status, Customer.time_zone, Customer.locale, Customer.traits
).where(Customer.id.in_(_IDS))
_IDENTITIES = select(Identity.customer_id, Identity.type, Identity.value).where(
    Identity.customer_id.in_(_IDS)
)
_CONSENTS = (
    select(
        ConsentRecord.customer_id,
        ConsentRecord.purpose_key,
        ConsentRecord.decision,
        ConsentRecord.method,
        ConsentRecord.recorded_at,
        ConsentRecord.notice_version,
    )
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
# (type, hash) pairs: the lookup uses the unique index on both columns.
_SUPPRESSED = select(Suppression.identity_type, Suppression.value_hash).where(
    tuple_(Suppression.identity_type, Suppression.value_hash).in_(
        bindparam("pairs", expanding=True)
    )
)


def load_contact_state(
    session: Session,
    customer_id: int,
    *,
    secret_key: str | None = None,
    now: datetime | None = None,
    lean: bool = False,
) -> dict[str, Any]:
    """The customer's status, consents, channels, topics, pause, quiet hours, caps, sends.

    With ``secret_key``, contact points found in the suppression list also mark the customer
    suppressed (a re-imported address of someone erased stays uncontactable). ``lean``: the
    contact service reads purposes and capped sends itself, so they are left out.
    """
    found = load_contact_states(session, [customer_id], secret_key=secret_key)
    if customer_id not in found:
        raise NotFound(f"customer {customer_id} does not exist")
    state = found[customer_id]
    if not lean:
        state["legal_bases"] = {
            key: str(basis)
            for key, basis in session.execute(select(Purpose.key, Purpose.legal_basis))
        }
        state["recent_sends"] = recent_sends(session=session, customer_id=customer_id, now=now)
    return state


def load_contact_states(
    session: Session, customer_ids: Sequence[int], *, secret_key: str | None = None
) -> dict[int, dict[str, Any]]:
    """:func:`load_contact_state` (lean) for many customers at once; unknown ids are absent."""
    ids = {"ids": list(dict.fromkeys(customer_ids))}
    # The connection, not the session: plain rows, without the ORM's per-statement work.
    connection = session.connection()
    customers = connection.execute(_CUSTOMERS, ids).all()
    if not customers:
        return {}
    identities: dict[int, list[tuple[str, str]]] = {}
    for customer_id, kind, value in connection.execute(_IDENTITIES, ids):
        identities.setdefault(customer_id, []).append((str(kind), value))
    consents: dict[int, dict[str, dict[str, Any]]] = {}
    # Later records overwrite earlier ones: the latest per purpose is current.
    for customer_id, purpose, decision, method, at, version in connection.execute(_CONSENTS, ids):
        consents.setdefault(customer_id, {})[purpose] = {
            "decision": str(decision),
            "method": str(method),
            "at": at,
            "notice_version": version,
        }
    preferences = {
        customer_id: PreferenceDocument.model_validate(document)
        for customer_id, document in connection.execute(_PREFERENCES, ids)
    }
    suppressed = (
        _on_suppression_list(connection, identities, secret_key) if secret_key else set[int]()
    )
    return {
        customer_id: _state(
            customer_id=customer_id,
            status=CustomerStatus(status),
            time_zone=time_zone,
            language=locale.split("-")[0],
            traits=traits or {},
            identities=identities.get(customer_id, []),
            consents=consents.get(customer_id, {}),
            preferences=preferences.get(customer_id, _NO_PREFERENCES),
            on_suppression_list=customer_id in suppressed,
        )
        for customer_id, status, time_zone, locale, traits in customers
    }


def _state(
    *,
    customer_id: int,
    status: CustomerStatus,
    time_zone: str,
    language: str,
    traits: dict[str, Any],
    identities: list[tuple[str, str]],
    consents: dict[str, dict[str, Any]],
    preferences: PreferenceDocument,
    on_suppression_list: bool,
) -> dict[str, Any]:
    kinds = {kind for kind, _ in identities}
    marketing = consents.get("marketing")
    return {
        "customer_id": customer_id,
        "status": str(status),
        "erased": status == CustomerStatus.erased,
        "suppressed": status == CustomerStatus.suppressed or on_suppression_list,
        "legal_bases": {},
        "consents": consents,
        "objected_to_marketing": marketing is not None
        and marketing["decision"] == Decision.objected,
        "channels": {
            channel: {
                "allowed": bool(preferences.channels.get(channel, True)),
                "reachable": _reachable(channel, kinds, traits),
            }
            for channel in CHANNELS
        },
        "channel_order": [str(channel) for channel in preferences.channel_order],
        "topics": preferences.topics,  # None: every topic
        "paused_until": preferences.paused_until,
        "quiet_hours": None
        if preferences.quiet_hours is None
        else {"start": preferences.quiet_hours.start, "end": preferences.quiet_hours.end},
        "time_zone": preferences.time_zone or time_zone,
        "language": preferences.language or language,
        "caps": {str(channel): cap.model_dump() for channel, cap in preferences.caps.items()},
        "overall_cap": preferences.overall_cap.model_dump() if preferences.overall_cap else None,
        "dialogues": preferences.dialogues,
        "recent_sends": {},
    }


def _reachable(channel: str, kinds: set[str], traits: dict[str, Any]) -> bool:
    if channel == "post":
        return any(traits.get(name) for name in POSTAL_TRAITS)
    return bool(REACHING.get(channel, set()) & kinds)


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
