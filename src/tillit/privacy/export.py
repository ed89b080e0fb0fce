"""The export (GDPR 15 and 20): everything held about one person as one JSON-ready document,
with a section from each area listed in :mod:`tillit.privacy.areas`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tillit.consent.ledger import history
from tillit.consent.models import ConsentRecord, PersonalLink
from tillit.consent.preferences import preference_history
from tillit.contact.log import decisions_since
from tillit.contact.tables import SendRecord
from tillit.customers.models import Customer
from tillit.errors import NotFound
from tillit.privacy.areas import EXPORTERS
from tillit.privacy.models import DataRequest
from tillit.storage.base import utcnow


def export_customer(*, session: Session, customer_id: int) -> dict[str, Any]:
    """Everything held about one person, as one JSON-ready document (GDPR 15 and 20)."""
    customer = session.get(Customer, customer_id, options=[selectinload(Customer.identities)])
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    document: dict[str, Any] = {
        "format": "tillit-export/1",
        "exported_at": utcnow().isoformat(),
        "profile": {
            "id": customer.id,
            "name": customer.name,
            "locale": customer.locale,
            "time_zone": customer.time_zone,
            "country": customer.country,
            "traits": customer.traits,
            "status": str(customer.status),
            "created_at": customer.created_at.isoformat(),
        },
        "identities": [
            {
                "type": str(i.type),
                "value": i.value,
                "verified": i.verified,
                "source": i.source,
                "created_at": i.created_at.isoformat(),
            }
            for i in customer.identities
        ],
        "consents": [
            _consent_row(entry) for entry in history(session=session, customer_id=customer_id)
        ],
        "preferences": [
            {
                "version": v.version,
                "recorded_at": v.recorded_at.isoformat(),
                "method": v.method,
                "changed": v.changed,
                "preferences": v.document,
            }
            for v in preference_history(session=session, customer_id=customer_id)
        ],
        "contact_decisions": [
            {
                "decided_at": d.decided_at.isoformat(),
                "channel": d.channel,
                "kind": d.kind,
                "purpose": d.purpose_key,
                "topic": d.topic,
                "outcome": d.outcome,
                "reasons": d.reasons,
                "sent": d.sent,
                "defer_until": d.defer_until.isoformat() if d.defer_until else None,
            }
            for d in decisions_since(session=session, customer_id=customer_id, days=36500)
        ],
        "sends": [
            {
                "sent_at": s.sent_at.isoformat(),
                "channel": s.channel,
                "kind": s.kind,
                "topic": s.topic,
            }
            for s in session.scalars(
                select(SendRecord)
                .where(SendRecord.customer_id == customer_id)
                .order_by(SendRecord.sent_at)
            )
        ],
        "data_requests": [
            {
                "kind": str(r.kind),
                "status": r.status,
                "received_at": r.received_at.isoformat(),
                "due_on": r.due_on.isoformat(),
            }
            for r in session.scalars(
                select(DataRequest)
                .where(DataRequest.customer_id == customer_id)
                .order_by(DataRequest.id)
            )
        ],
        "personal_links": [
            {
                "created_at": link.created_at.isoformat(),
                "expires_at": link.expires_at.isoformat(),
                "revoked": link.revoked_at is not None,
            }
            for link in session.scalars(
                select(PersonalLink)
                .where(PersonalLink.customer_id == customer_id)
                .order_by(PersonalLink.id)
            )
        ],
    }
    for name, exporter in sorted(EXPORTERS.items()):
        document[name] = exporter(session, customer_id)
    return document


def _consent_row(entry: ConsentRecord) -> dict[str, Any]:
    return {
        "sequence": entry.sequence,
        "purpose": entry.purpose_key,
        "decision": str(entry.decision),
        "method": str(entry.method),
        "channel": entry.channel,
        "notice_version": entry.notice_version,
        "shown_text_sha256": entry.shown_text_hash,
        "ip_prefix": entry.ip_prefix,
        "user_agent": entry.user_agent,
        "gpc": entry.gpc,
        "recorded_at": entry.recorded_at.isoformat(),
        "record_hash": entry.record_hash,
    }
