"""Global Privacy Control: ``Sec-GPC: 1`` is an opt-out of sale and sharing.

The rule (docs/consent.md): a GPC request withdraws ``partner_sharing`` and both records stay
in the ledger. The signal wins over any grant made before it. It does not override a grant
the customer made *after* a GPC withdrawal *in the same browser* (same user agent), because
that is a later, explicit, informed choice by the person whose browser sends the signal;
a grant made elsewhere (another browser, staff, import, API) does not count as that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, ConsentRecord, Method
from tillit.customers.models import Customer, CustomerStatus

GPC_PURPOSE = "partner_sharing"


def gpc_requested(headers: Mapping[str, str]) -> bool:
    """True for ``Sec-GPC: 1`` (the only value the specification defines)."""
    return headers.get("sec-gpc", headers.get("Sec-GPC", "")).strip() == "1"


def honour_gpc(
    *,
    session: Session,
    customer_id: int,
    evidence: Evidence,
    actor: Actor,
    channel: str | None = "web",
    at: datetime | None = None,
) -> ConsentRecord | None:
    """Record a GPC withdrawal of partner sharing when the rule above calls for one.

    Returns the new record, or None when nothing needed recording (already not granted, or a
    re-grant after the signal in this same browser). Safe to call on every request.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or customer.status == CustomerStatus.erased:
        return None
    records = list(
        session.scalars(
            select(ConsentRecord)
            .where(
                ConsentRecord.customer_id == customer_id, ConsentRecord.purpose_key == GPC_PURPOSE
            )
            .order_by(ConsentRecord.sequence)
        )
    )
    latest = records[-1] if records else None
    if latest is None or latest.decision != ConsentDecision.granted:
        return None  # nothing granted: nothing to withdraw, and no noise in the ledger
    if _regranted_after_signal(records, user_agent=evidence.short_user_agent):
        return None
    return record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key=GPC_PURPOSE,
        decision=ConsentDecision.withdrawn,
        method=Method.gpc,
        actor=actor,
        channel=channel,
        evidence=Evidence(
            shown_text_hash=None, ip=evidence.ip, user_agent=evidence.user_agent, gpc=True
        ),
        at=at,
    )


def _regranted_after_signal(records: list[ConsentRecord], *, user_agent: str | None) -> bool:
    """The latest grant came after a GPC record, from the same browser, which also sent GPC."""
    latest = records[-1]
    earlier_signal = any(entry.method == Method.gpc for entry in records[:-1])
    return (
        earlier_signal
        and latest.method == Method.preference_centre
        and latest.gpc
        and user_agent is not None
        and latest.user_agent == user_agent
    )
