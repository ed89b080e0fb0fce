"""Builders for contact-policy tests: a customer who may be contacted, and ways to spoil it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tillit.contact import DIALOGUE_PURPOSE, CompanyPolicy, ConsentStatus, ContactState, Intent
from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)  # a Wednesday, far from DST changes

POLICY = CompanyPolicy(
    purposes={
        "newsletter": LegalBasis.consent,
        "offers": LegalBasis.legitimate_interest,
        "orders": LegalBasis.contract,
        DIALOGUE_PURPOSE: LegalBasis.legitimate_interest,
    }
)


def reachable_state(**changes: Any) -> ContactState:
    """A customer who consented to the newsletter and can be emailed, with no limits."""
    state = ContactState(
        customer_id="cust-1",
        time_zone="Europe/Copenhagen",
        consents={"newsletter": ConsentStatus.GRANTED},
        allowed_channels=frozenset({OutboundChannel.email, OutboundChannel.sms}),
        reachable_channels=frozenset({OutboundChannel.email, OutboundChannel.sms}),
    )
    return replace(state, **changes)


def intent(**changes: Any) -> Intent:
    base = Intent(
        purpose="newsletter",
        kind=MessageKind.marketing,
        channel=OutboundChannel.email,
        topic="news",
        at=NOW,
    )
    return replace(base, **changes)
