"""Data requests (GDPR 15, 17, 20, 21): the staff queue with due dates, the export, and the
objection to direct marketing.

Other areas add their own sections to the export with ``register_exporter``::

    @register_exporter("events")
    def export_events(session: Session, customer_id: int) -> list[dict]: ...
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tillit.audit.service import Actor, record
from tillit.consent.decision_log import decisions_since
from tillit.consent.ledger import history, record_consent
from tillit.consent.models import (
    ConsentRecord,
    DataRequest,
    DataRequestKind,
    Decision,
    Method,
    PersonalLink,
    Send,
)
from tillit.consent.preferences import preference_history
from tillit.customers.models import Customer
from tillit.errors import NotFound
from tillit.storage.base import utcnow

Exporter = Callable[[Session, int], Any]
EXPORTERS: dict[str, Exporter] = {}


def register_exporter(name: str) -> Callable[[Exporter], Exporter]:
    def register(function: Exporter) -> Exporter:
        EXPORTERS[name] = function
        return function

    return register


def one_month_after(day: date) -> date:
    """GDPR 12(3): within one month; the same day next month, or its last day if shorter."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def open_request(
    *,
    session: Session,
    customer_id: int,
    kind: DataRequestKind,
    channel: str,
    actor: Actor,
    note: str | None = None,
) -> DataRequest:
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} does not exist")
    received = utcnow()
    request = DataRequest(
        customer_id=customer_id,
        kind=kind,
        channel=channel,
        note=note,
        received_at=received,
        due_on=one_month_after(received.date()),
    )
    session.add(request)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="data_request.open",
        entity_type="customer",
        entity_id=customer_id,
        after={"request": request.id, "kind": str(kind)},
    )
    return request


def complete_request(
    *, session: Session, request_id: int, actor: Actor, status: str = "done"
) -> DataRequest:
    request = session.get(DataRequest, request_id)
    if request is None:
        raise NotFound(f"data request {request_id} does not exist")
    request.status = status
    request.completed_at = utcnow()
    record(
        session=session,
        actor=actor,
        action="data_request.complete",
        entity_type="data_request",
        entity_id=request.id,
        after={"status": status},
    )
    return request


def request_queue(*, session: Session, include_done: bool = False) -> list[DataRequest]:
    query = select(DataRequest).order_by(DataRequest.due_on, DataRequest.id)
    if not include_done:
        query = query.where(DataRequest.status == "open")
    return list(session.scalars(query))


def object_to_marketing(
    *, session: Session, customer_id: int, actor: Actor, method: Method = Method.preference_centre
) -> ConsentRecord:
    """GDPR 21(3): absolute. The contact policy reads it from ``objected_to_marketing``."""
    return record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key="marketing",
        decision=Decision.objected,
        method=method,
        actor=actor,
    )


def export_customer(*, session: Session, customer_id: int) -> dict[str, Any]:
    """Everything held about one person, as one JSON-ready document (GDPR 15 and 20)."""
    from tillit.consent.erasure import load_area_hooks

    load_area_hooks()
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
                select(Send).where(Send.customer_id == customer_id).order_by(Send.sent_at)
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
