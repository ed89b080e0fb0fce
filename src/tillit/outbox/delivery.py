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
from datetime import datetime, timedelta

from tillit.config import Settings
from tillit.outbox import store
from tillit.outbox.preparation import prepare
from tillit.outbox.report import DeliveryReport
from tillit.outbox.sending import send_batch
from tillit.storage.session import SessionFactory
from tillit.vocabulary import OutboundChannel

__all__ = ["DeliveryReport", "send_due"]


def send_due(
    session_factory: SessionFactory,
    settings: Settings,
    *,
    now: datetime,
    limit: int | None = None,
) -> DeliveryReport:
    """Send the due messages, a batch (``TILLIT_OUTBOX_BATCH_SIZE``) at a time, at most
    ``limit`` of them. Safe to run in several processes at once; safe to kill at any moment."""
    report = DeliveryReport()
    channels = [OutboundChannel.email.value]
    if settings.gateway_url:  # without a gateway other channels wait in the queue
        channels += [c.value for c in OutboundChannel if c is not OutboundChannel.email]
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    started = time.monotonic()
    while limit is None or report.claimed < limit:
        size = settings.outbox_batch_size
        if limit is not None:
            size = min(size, limit - report.claimed)
        # ``now`` moves on with the run: a batch claimed ten minutes into a long run is
        # claimed (and its lease starts) ten minutes after ``now``, not at it.
        at = now + timedelta(seconds=time.monotonic() - started) if report.claimed else now
        batch = store.claim(session_factory, now=at, lease=lease, size=size, channels=channels)
        if not batch:
            break
        report.claimed += len(batch)
        ready = prepare(session_factory, settings, batch, at, report)
        if not send_batch(session_factory, settings, ready, at, report):
            break  # the provider is down: the next round tries again
    return report
