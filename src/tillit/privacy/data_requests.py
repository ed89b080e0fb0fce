"""Data requests (GDPR 15, 17, 20, 21): the staff queue with due dates, and the objection to
direct marketing. The export is in :mod:`tillit.privacy.export`, erasure in
:mod:`tillit.privacy.erasure`."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, ConsentRecord, Method
from tillit.customers.models import Customer
from tillit.errors import NotFound
from tillit.privacy.models import DataRequest, DataRequestKind
from tillit.storage.base import utcnow


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
        decision=ConsentDecision.objected,
        method=method,
        actor=actor,
    )
