"""What happened to a message handed to its provider, written down the moment it is known,
each outcome in a transaction of its own (run by the :class:`.Recorder`'s thread): ``sent`` and
counted for the contact policy's caps, ``bounced`` (the point is known bad from now on), or
queued again with a back-off (``failed`` after the last attempt). Each names the sender's claim,
so a sender whose lease was taken over changes nothing (``lost_lease``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.contact.log import count_send, record_delivery, record_delivery_failure
from tillit.outbox import store
from tillit.outbox.models import OutboxState
from tillit.outbox.recorder import Recorder
from tillit.outbox.report import DeliveryReport
from tillit.outbox.store import Claimed
from tillit.outbox.transport import Prepared

logger = logging.getLogger(__name__)


def record_sent(
    recorder: Recorder,
    item: Prepared,
    *,
    provider_id: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Have ``recorder`` mark ``item`` sent and count it; on PostgreSQL in one statement."""
    if recorder.autocommits and not item.had_failures:
        recorder.record_statement(
            partial(_sent_at_once, item=item, provider_id=provider_id, now=now, report=report)
        )
    else:
        recorder.record(partial(_sent, item=item, provider_id=provider_id, now=now, report=report))


def _sent(
    session: Session,
    *,
    item: Prepared,
    provider_id: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    message = item.message
    if not store.mark_sent(session, message, at=now, provider_id=provider_id):
        _lost_lease(message, report)
        return
    count_send(  # the caps count it from now on
        session=session,
        customer_id=message.customer_id,
        channel=message.channel,
        kind=message.kind,
        topic=message.topic,
        decision_id=message.decision_id,  # checked in preparation.prepare
        sent_at=now,
    )
    if item.had_failures:
        record_delivery(
            session=session,
            customer_id=message.customer_id,
            channel=message.channel,
            point_hash=item.point_hash,
        )
    report.sent += 1


def _sent_at_once(
    connection: Connection,
    *,
    item: Prepared,
    provider_id: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """:func:`_sent` in one statement (PostgreSQL), for a point with no failures to clear."""
    if store.mark_sent_and_count(connection, item.message, at=now, provider_id=provider_id):
        report.sent += 1
    else:
        _lost_lease(item.message, report)


def _lost_lease(message: Claimed, report: DeliveryReport) -> None:
    report.lost_lease += 1
    logger.warning("outbox message %s was sent after its lease ran out", message.id)


def bounce(
    session: Session, *, item: Prepared, error: str, now: datetime, report: DeliveryReport
) -> None:
    _give_up(session, item, state=OutboxState.bounced, error=error, now=now)
    report.bounced += 1


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: the first wait, doubled each time."""
    return timedelta(seconds=settings.outbox_retry_seconds * 2 ** max(attempts - 1, 0))


def retry(
    session: Session,
    *,
    settings: Settings,
    item: Prepared,
    error: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    message = item.message
    if message.attempts < settings.outbox_max_attempts:
        store.requeue(session, message, at=now + backoff(settings, message.attempts), error=error)
        report.retried += 1
        return
    _give_up(session, item, state=OutboxState.failed, error=error, now=now)
    report.failed += 1


def _give_up(
    session: Session, item: Prepared, *, state: OutboxState, error: str, now: datetime
) -> None:
    """The message's final state and, if this sender still held it, the failure against its
    contact point: permanent for a bounce, not for a message that failed on every attempt."""
    message = item.message
    if store.mark_final(session, message, state=state, error=error):
        record_delivery_failure(
            session=session,
            customer_id=message.customer_id,
            channel=message.channel,
            point_hash=item.point_hash,
            permanent=state is OutboxState.bounced,
            reason=error,
            at=now,
        )
