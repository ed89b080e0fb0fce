"""Builders for contact-policy tests: a customer who may be contacted, and ways to spoil it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tillit.contact import (
    DIALOGUE_PURPOSE,
    Channel,
    CompanyPolicy,
    ConsentStatus,
    ContactState,
    Intent,
    Kind,
    LegalBasis,
)

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)  # a Wednesday, far from DST changes

POLICY = CompanyPolicy(
    purposes={
        "newsletter": LegalBasis.CONSENT,
        "offers": LegalBasis.LEGITIMATE_INTEREST,
        "orders": LegalBasis.CONTRACT,
        DIALOGUE_PURPOSE: LegalBasis.LEGITIMATE_INTEREST,
    }
)


def reachable_state(**changes: Any) -> ContactState:
    """A customer who consented to the newsletter and can be emailed, with no limits."""
    state = ContactState(
        customer_id="cust-1",
        time_zone="Europe/Copenhagen",
        consents={"newsletter": ConsentStatus.GRANTED},
        allowed_channels=frozenset({Channel.EMAIL, Channel.SMS}),
        reachable_channels=frozenset({Channel.EMAIL, Channel.SMS}),
    )
    return replace(state, **changes)


def intent(**changes: Any) -> Intent:
    base = Intent(
        purpose="newsletter",
        kind=Kind.MARKETING,
        channel=Channel.EMAIL,
        topic="news",
        at=NOW,
    )
    return replace(base, **changes)
