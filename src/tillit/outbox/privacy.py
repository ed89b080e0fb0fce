"""Erasure and export hooks for the outbox, listed in ``tillit.privacy.areas``.

Erasure deletes the person's messages (queued ones too: nothing is sent to an erased person)
and the contact policy's record of the points that could not be reached (keyed hashes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.contact.tables import DeliveryFailure
from tillit.outbox.models import OutboxMessage
from tillit.privacy.rows import delete_rows

ERASED_TABLES = ("outbox_message", "contact_delivery_failure")


def erase_outbox(session: Session, customer_id: int, needles: list[str]) -> int:
    return delete_rows(
        session, OutboxMessage, OutboxMessage.customer_id == customer_id
    ) + delete_rows(session, DeliveryFailure, DeliveryFailure.customer_id == customer_id)


def export_outbox(session: Session, customer_id: int) -> dict[str, list[dict[str, Any]]]:
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.customer_id == customer_id)
        .order_by(OutboxMessage.id)
    )
    failures = session.scalars(
        select(DeliveryFailure)
        .where(DeliveryFailure.customer_id == customer_id)
        .order_by(DeliveryFailure.id)
    )
    return {
        "messages": [
            {
                "channel": m.channel,
                "kind": m.kind,
                "topic": m.topic,
                "purpose": m.purpose_key,
                "subject": m.subject,
                "body": m.body,
                "state": m.state,
                "not_before": m.not_before.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                "last_error": m.last_error,
            }
            for m in messages
        ],
        "undelivered": [
            {
                "channel": f.channel,
                "bounced": f.permanent,
                "reason": f.reason,
                "at": f.failed_at.isoformat(),
            }
            for f in failures
        ],
    }
