"""Sending a prepared batch, message after message, each recorded (:mod:`.settling`) before
the next is handed over to its provider: SMTP for e-mail, the company's gateway for the rest."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from tillit.config import Settings
from tillit.outbox import store
from tillit.outbox.gateway import GatewayTransport
from tillit.outbox.recorder import Recorder
from tillit.outbox.report import DeliveryReport
from tillit.outbox.settling import bounce, record_sent, retry
from tillit.outbox.smtp_transport import SmtpTransport
from tillit.outbox.transport import Down, Prepared, Refused, Transport, TryAgain
from tillit.storage.session import SessionFactory
from tillit.vocabulary import OutboundChannel

logger = logging.getLogger(__name__)


def send_batch(
    sessions: SessionFactory,
    settings: Settings,
    ready: Sequence[Prepared],
    now: datetime,
    report: DeliveryReport,
    *,
    claimed_at: float,
) -> bool:
    """Send each message and record it, in a transaction of its own, before the next is handed
    over; False when the provider was down (the rest of the batch was given back). ``now`` is
    when the batch was claimed, ``claimed_at`` that moment on :func:`time.monotonic`'s clock.

    A record is committed by the :class:`Recorder`'s thread while this one sends the next
    message's envelope and data; the next message's final step (SMTP's closing ``.``, a
    gateway's POST) waits for that commit. Every change to ``report`` is made by a record, or
    here after :meth:`Recorder.wait`, never by both threads at once."""
    transports: dict[bool, Transport] = {}
    # A slow provider must not let the lease run out under a batch still being sent: past a
    # third of the lease, the batch's remaining claims are renewed.
    renew_after = settings.outbox_lease_seconds / 3
    started = renewed = claimed_at
    if ready and time.monotonic() - claimed_at > renew_after:
        # Claimed while the batch before was sent, and that took long: the lease is renewed
        # before anything is sent, and a message whose lease ran out meanwhile and that
        # another sender took over is that sender's to send.
        renewed = time.monotonic()
        at = now + timedelta(seconds=renewed - started)
        with sessions() as session, session.begin():
            held = store.renew(session, token=ready[0].message.claim_token, at=at)
        ready = [item for item in ready if item.message.id in held]
    with Recorder(sessions, durable=settings.outbox_durable_records) as recorder:
        try:
            for index, item in enumerate(ready):
                if time.monotonic() - renewed > renew_after:
                    renewed = time.monotonic()
                    at = now + timedelta(seconds=renewed - started)
                    recorder.record(partial(store.renew, token=item.message.claim_token, at=at))
                is_email = item.message.channel == OutboundChannel.email
                if is_email not in transports:
                    transports[is_email] = (
                        SmtpTransport(settings) if is_email else GatewayTransport(settings)
                    )
                transport = transports[is_email]
                try:
                    transport.start(item)
                    recorder.wait()  # the message before is recorded: only now hand this over
                    provider_id = transport.finish(item)
                except Refused as error:
                    recorder.record(
                        partial(bounce, item=item, error=str(error), now=now, report=report)
                    )
                except (TryAgain, Down) as error:
                    recorder.record(
                        partial(
                            retry,
                            settings=settings,
                            item=item,
                            error=str(error),
                            now=now,
                            report=report,
                        )
                    )
                    if not isinstance(error, Down):
                        continue
                    untried = [later.message for later in ready[index + 1 :]]
                    recorder.record(partial(store.release, messages=untried, now=now))
                    recorder.wait()
                    report.returned += len(untried)
                    report.errors.append(str(error))
                    logger.warning("outbox: %s; %d messages given back", error, len(untried))
                    return False
                else:
                    record_sent(recorder, item, provider_id=provider_id, now=now, report=report)
        finally:
            for transport in transports.values():
                transport.close()
    return True
