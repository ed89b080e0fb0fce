"""Everything the contact policy needs to know about one customer, in one plain dict."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tillit.consent.decision_log import recent_sends
from tillit.consent.ledger import current_consents
from tillit.consent.models import Decision, Purpose, Suppression
from tillit.consent.preferences import CHANNELS, current_preferences
from tillit.consent.suppression import contact_point_hash
from tillit.customers.models import Customer, CustomerStatus, IdentityType
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
    suppressed (a re-imported address of someone erased stays uncontactable).
    """
    customer = session.get(Customer, customer_id, options=[selectinload(Customer.identities)])
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    preferences = current_preferences(session=session, customer_id=customer_id)
    kinds = {str(identity.type) for identity in customer.identities}
    traits = customer.traits or {}
    consents = current_consents(session=session, customer_id=customer_id)
    # ``lean``: the contact service reads purposes (cached) and capped sends itself, in bulk.
    purposes = [] if lean else list(session.scalars(select(Purpose)))
    suppressed = customer.status == CustomerStatus.suppressed or (
        secret_key is not None and _on_suppression_list(session, customer, secret_key)
    )
    marketing = consents.get("marketing")
    return {
        "customer_id": customer.id,
        "status": str(customer.status),
        "erased": customer.status == CustomerStatus.erased,
        "suppressed": suppressed,
        "legal_bases": {purpose.key: str(purpose.legal_basis) for purpose in purposes},
        "consents": {
            key: {
                "decision": str(entry.decision),
                "method": str(entry.method),
                "at": entry.recorded_at,
                "notice_version": entry.notice_version,
            }
            for key, entry in consents.items()
        },
        "objected_to_marketing": marketing is not None and marketing.decision == Decision.objected,
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
        else {
            "start": preferences.quiet_hours.start,
            "end": preferences.quiet_hours.end,
        },
        "time_zone": preferences.time_zone or customer.time_zone,
        "language": preferences.language or customer.language,
        "caps": {str(channel): cap.model_dump() for channel, cap in preferences.caps.items()},
        "overall_cap": preferences.overall_cap.model_dump() if preferences.overall_cap else None,
        "dialogues": preferences.dialogues,
        "recent_sends": {}
        if lean
        else recent_sends(session=session, customer_id=customer_id, now=now),
    }


def _reachable(channel: str, kinds: set[str], traits: dict[str, Any]) -> bool:
    if channel == "post":
        return any(traits.get(name) for name in POSTAL_TRAITS)
    return bool(REACHING.get(channel, set()) & kinds)


def _on_suppression_list(session: Session, customer: Customer, secret_key: str) -> bool:
    hashes = [contact_point_hash(str(i.type), i.value, secret_key) for i in customer.identities]
    if not hashes:
        return False
    return (
        session.scalar(select(Suppression.id).where(Suppression.value_hash.in_(hashes)).limit(1))
        is not None
    )
