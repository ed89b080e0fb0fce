"""Sending what is due: claim a batch, check it against the contact policy once more, look up
addresses and links, send each message and record it the moment the provider took it.

Exactly once, as far as it can be (docs/outreach.md, "Exactly once"):

1. **claim** (one transaction, :mod:`.store`): due ``queued`` messages, and ``sending`` ones
   whose sender's lease ran out, become ``sending`` under this sender's claim token;
2. **prepare** (one transaction, :mod:`.preparation`): the contact policy at the moment of
   sending (a customer who unsubscribed since the message was planned is not sent it:
   ``held``), the address, the preference-centre and unsubscribe links;
3. **send and settle**, per message (:mod:`.sending`, :mod:`.settling`): the provider accepts
   it (SMTP 250 after DATA, gateway 2xx) and at once, in its own transaction, the row becomes
   ``sent`` and the send is counted in ``contact_send`` (caps count it from then on). That
   transaction commits while the next message's envelope and data go out; the next hand-over
   waits for it (:mod:`.recorder`).

A sender killed between the provider's acceptance and step 3's commit leaves that one message
``sending``; after the lease another sender sends it again, with the same Message-ID (or
gateway Idempotency-Key). That window, a few milliseconds per message, is the whole of the
at-least-once; no accepted message is ever lost, and none outside the window is sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tillit.config import Settings
from tillit.outbox import store
from tillit.outbox.preparation import prepare
from tillit.outbox.report import DeliveryReport
from tillit.outbox.sending import send_batch
from tillit.outbox.transport import Prepared
from tillit.storage.session import SessionFactory
from tillit.vocabulary import OutboundChannel

__all__ = ["DeliveryReport", "send_due"]


@dataclass
class _Batch:
    """A batch claimed and prepared, not yet sent."""

    at: datetime  # when it was claimed, on the run's clock
    claimed_at: float  # the same moment on time.monotonic()'s, where its lease starts
    ready: list[Prepared] = field(default_factory=list)
    # What its claim and preparation counted: claimed, held, deferred …
    report: DeliveryReport = field(default_factory=DeliveryReport)


def send_due(
    session_factory: SessionFactory,
    settings: Settings,
    *,
    now: datetime,
    limit: int | None = None,
) -> DeliveryReport:
    """Send the due messages, a batch (``TILLIT_OUTBOX_BATCH_SIZE``) at a time, at most
    ``limit`` of them. Safe to run in several processes at once; safe to kill at any moment.

    The next batch is claimed and prepared on a thread of its own while one is sent: the
    policy check, links and tokens wait on the database while the sending thread waits on
    the provider. Its policy decision is then up to one batch older than it would be. It
    leaves out the customers of the batch on the wire (they are claimed after it), so that
    every decision sees the sends before it, as a frequency cap must."""
    report = DeliveryReport()
    channels = [OutboundChannel.email.value]
    if settings.gateway_url:  # without a gateway other channels wait in the queue
        channels += [c.value for c in OutboundChannel if c is not OutboundChannel.email]
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    started = time.monotonic()

    def claim_and_prepare(size: int, sending: Collection[int], *, first: bool = False) -> _Batch:
        claimed_at = time.monotonic()
        # ``now`` moves on with the run: a batch claimed ten minutes into a long run is
        # claimed (and its lease starts) ten minutes after ``now``, not at it.
        at = now if first else now + timedelta(seconds=claimed_at - started)
        batch = _Batch(at=at, claimed_at=claimed_at)
        claimed = store.claim(
            session_factory,
            now=at,
            lease=lease,
            size=size,
            channels=channels,
            skip_customers=sending,
        )
        if claimed:
            batch.report.claimed = len(claimed)
            batch.ready = prepare(session_factory, settings, claimed, at, batch.report)
        return batch

    def size_after(claimed: int) -> int:
        size = settings.outbox_batch_size
        return size if limit is None else min(size, limit - claimed)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-prepare") as preparer:
        batch = claim_and_prepare(size_after(0), sending=(), first=True)
        while batch.report.claimed:
            report.add(batch.report)
            size = size_after(report.claimed)
            sending = {item.message.customer_id for item in batch.ready}
            upcoming = preparer.submit(claim_and_prepare, size, sending) if size > 0 else None
            sent_all = send_batch(
                session_factory,
                settings,
                batch.ready,
                batch.at,
                report,
                claimed_at=batch.claimed_at,
            )
            if upcoming is None:
                break
            if not sent_all:  # the provider is down: the next round tries again
                _give_back(session_factory, upcoming.result(), report)
                break
            batch = upcoming.result()
            if not batch.report.claimed and sending:
                # Nothing left but (perhaps) messages to the customers just sent to.
                batch = claim_and_prepare(size, sending=())
    return report


def _give_back(sessions: SessionFactory, batch: _Batch, report: DeliveryReport) -> None:
    """Release a batch prepared ahead, untried (its held, deferred … stay settled)."""
    report.add(batch.report)
    with sessions() as session, session.begin():
        store.release(session, [item.message for item in batch.ready], now=batch.at)
    report.returned += len(batch.ready)
