"""Sending what is due: claim a batch, check it against the contact policy once more, look up
addresses and links, send each message and record it the moment the provider took it.

Exactly once, as far as it can be (docs/outreach.md, "Exactly once"):

1. **claim** (one transaction): due ``queued`` messages, and ``sending`` ones whose sender's
   lease ran out, become ``sending`` under this sender's claim token;
2. **prepare** (one transaction): the contact policy at the moment of sending (a customer who
   unsubscribed since the message was planned is not sent it: ``held``), the address, the
   preference-centre and unsubscribe links;
3. **send and settle**, per message: the provider accepts it (SMTP 250 after DATA, gateway
   2xx) and at once, in its own transaction, the row becomes ``sent`` and the send is counted
   in ``contact_send`` (caps count it from then on). That transaction commits while the next
   message's envelope and data go out; the next hand-over waits for it (:mod:`.recorder`).

A sender killed between the provider's acceptance and step 3's commit leaves that one message
``sending``; after the lease another sender sends it again, with the same Message-ID (or
gateway Idempotency-Key). That window, a few milliseconds per message, is the whole of the
at-least-once; no accepted message is ever lost, and none outside the window is sent twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.links import create_links
from tillit.consent.suppression import contact_point_hash
from tillit.consent.unsubscribe import unsubscribe_tokens, unsubscribe_url
from tillit.contact.log import count_send, record_delivery, record_delivery_failure
from tillit.contact.models import CAPPED_KINDS, DIALOGUE_PURPOSE
from tillit.contact.service import decide_audience, make_intent
from tillit.contact.state import REACHING
from tillit.contact.tables import DecisionRecord, DeliveryFailure
from tillit.customers.models import Identity
from tillit.errors import TillitError
from tillit.outbox import store
from tillit.outbox.gateway import GatewayTransport
from tillit.outbox.models import OutboxState
from tillit.outbox.recorder import Recorder
from tillit.outbox.smtp_transport import SmtpTransport, message_id
from tillit.outbox.store import Claimed
from tillit.outbox.transport import Down, Prepared, Refused, Transport, TryAgain
from tillit.storage.session import SessionFactory
from tillit.vocabulary import MessageKind, OutboundChannel

logger = logging.getLogger(__name__)
ACTOR = Actor.system("outbox")


@dataclass
class DeliveryReport:
    """What one :func:`send_due` did, message by message."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0  # failed this time, queued again with a back-off
    failed: int = 0  # failed on the last attempt
    bounced: int = 0
    held: int = 0  # the contact policy said no at the moment of sending
    deferred: int = 0  # the contact policy said later (quiet hours, a cap)
    returned: int = 0  # claimed but not tried: the provider was down
    lost_lease: int = 0  # sent, but another sender had taken the message over
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            f"outbox_{f.name}": getattr(self, f.name) for f in fields(self) if f.name != "errors"
        }


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
        ready = _prepare(session_factory, settings, batch, at, report)
        if not _send_batch(session_factory, settings, ready, at, report):
            break  # the provider is down: the next round tries again
    return report


def _intent_purpose(message: Claimed) -> str:
    if message.purpose_key:
        return message.purpose_key
    if message.kind == MessageKind.dialogue:
        return DIALOGUE_PURPOSE
    return "marketing" if message.kind == MessageKind.marketing else "service"


def _prepare(
    sessions: SessionFactory,
    settings: Settings,
    batch: Sequence[Claimed],
    now: datetime,
    report: DeliveryReport,
) -> list[Prepared]:
    """The policy check, addresses and links for a claimed batch, in one transaction."""
    ready: list[Prepared] = []
    with sessions() as session, session.begin():
        allowed = []
        outcomes = _policy(session, settings, batch, now)
        for message in batch:
            outcome, reason, until = outcomes[message.id]
            if message.attempts > settings.outbox_max_attempts:
                store.mark_final(
                    session,
                    message,
                    state=OutboxState.failed,
                    error="its sender stopped while sending it, on every attempt",
                )
                report.failed += 1
            elif outcome == "allowed":
                allowed.append(message)
            elif outcome == "deferred" and until is not None:
                store.requeue(
                    session, message, at=until, error=f"deferred: {reason}", counts_as_attempt=False
                )
                report.deferred += 1
            else:
                store.mark_final(session, message, state=OutboxState.held, error=reason)
                report.held += 1
        points, failing = _contact_points(session, settings, allowed)
        decisions = _allowed_decisions(session, allowed)
        reached = [m for m in allowed if (m.customer_id, m.channel) in points]
        links = create_links(
            session=session,
            customer_ids=[m.customer_id for m in reached],
            secret_key=settings.secret_key,
            actor=ACTOR,
        )
        scopes = {m.id: _scopes(m) for m in reached if m.kind in CAPPED_KINDS}
        tokens = unsubscribe_tokens(
            session=session,
            wanted=[(m.customer_id, scope) for m in reached for scope in scopes.get(m.id, [])],
            secret_key=settings.secret_key,
        )
        for message in allowed:
            point = points.get((message.customer_id, message.channel))
            link = links.get(message.customer_id)
            if point is None or link is None:  # the policy found it reachable a moment ago
                store.mark_final(
                    session, message, state=OutboxState.failed, error="no contact point"
                )
                report.failed += 1
                continue
            token = next(
                (
                    tokens[(message.customer_id, scope)]
                    for scope in scopes.get(message.id, [])
                    if (message.customer_id, scope) in tokens
                ),
                None,
            )
            point_hash = contact_point_hash(point[0], point[1], settings.secret_key)
            ready.append(
                Prepared(
                    message=replace(
                        message,
                        decision_id=message.decision_id
                        if message.decision_id in decisions
                        else None,
                    ),
                    address=point[1],
                    address_type=point[0],
                    point_hash=point_hash,
                    message_id=message_id(
                        settings, row_id=message.id, dedupe_key=message.dedupe_key
                    ),
                    why_url=link.url(settings.base_url),
                    unsubscribe_url=unsubscribe_url(settings.base_url, token) if token else None,
                    had_failures=(message.customer_id, message.channel, point_hash) in failing,
                )
            )
    return ready


def _policy(
    session: Session, settings: Settings, batch: Sequence[Claimed], now: datetime
) -> dict[int, tuple[str, str, datetime | None]]:
    """The contact policy for each message now, one vectorised decision per kind of message."""
    groups: dict[tuple[str, str, str, str | None], list[Claimed]] = {}
    for message in batch:
        key = (_intent_purpose(message), message.kind, message.channel, message.topic)
        groups.setdefault(key, []).append(message)
    found: dict[int, tuple[str, str, datetime | None]] = {}
    for (purpose, kind, channel, topic), messages in groups.items():
        try:
            intent = make_intent(purpose=purpose, kind=kind, channel=channel, topic=topic, at=now)
        except TillitError as error:  # a dialogue message without the research purpose …
            found.update((m.id, ("denied", str(error), None)) for m in messages)
            continue
        decided = {
            row["customer_id"]: row
            for row in decide_audience(
                session=session,
                customer_ids=[m.customer_id for m in messages],
                intent=intent,
                settings=settings,
            )
        }
        for message in messages:
            row = decided[message.customer_id]
            until = row["defer_until"]
            found[message.id] = (
                row["outcome"],
                row["reason"] or row["outcome"],
                datetime.fromisoformat(until) if until else None,
            )
    return found


def _contact_points(
    session: Session, settings: Settings, messages: Sequence[Claimed]
) -> tuple[dict[tuple[int, str], tuple[str, str]], set[tuple[int, str, str]]]:
    """Where each (customer, channel) is written to: the first identity that reaches the
    channel (verified first, then the oldest) whose point has not bounced; and the points
    with earlier failures (a delivery clears them)."""
    ids = list({m.customer_id for m in messages})
    if not ids:
        return {}, set()
    bounced: set[tuple[int, str, str]] = set()
    failing: set[tuple[int, str, str]] = set()
    for customer_id, channel, point, permanent in session.execute(
        select(
            DeliveryFailure.customer_id,
            DeliveryFailure.channel,
            DeliveryFailure.point_hash,
            DeliveryFailure.permanent,
        ).where(DeliveryFailure.customer_id.in_(ids))
    ):
        (bounced if permanent else failing).add((customer_id, channel, point))
    identities: dict[int, list[tuple[str, str]]] = {}
    for customer_id, identity_type, value in session.execute(
        select(Identity.customer_id, Identity.type, Identity.value)
        .where(Identity.customer_id.in_(ids))
        .order_by(Identity.verified.desc(), Identity.id)
    ):
        identities.setdefault(customer_id, []).append((str(identity_type), value))
    found: dict[tuple[int, str], tuple[str, str]] = {}
    for message in messages:
        reaching = REACHING.get(OutboundChannel(message.channel), set())
        for kind, value in identities.get(message.customer_id, []):
            if kind not in reaching:
                continue
            point = contact_point_hash(kind, value, settings.secret_key)
            if (message.customer_id, message.channel, point) not in bounced:
                found[(message.customer_id, message.channel)] = (kind, value)
                break
    return found, failing


def _allowed_decisions(session: Session, messages: Sequence[Claimed]) -> set[int]:
    """The decisions named that allowed a send to that customer (only those can be marked
    sent; another is kept on the message but not linked to the send)."""
    wanted = {m.decision_id: m.customer_id for m in messages if m.decision_id is not None}
    if not wanted:
        return set()
    return {
        decision_id
        for decision_id, customer_id in session.execute(
            select(DecisionRecord.id, DecisionRecord.customer_id).where(
                DecisionRecord.id.in_(list(wanted)), DecisionRecord.outcome == "allowed"
            )
        )
        if wanted[decision_id] == customer_id
    }


def _scopes(message: Claimed) -> list[str]:
    """What its one-click unsubscribe stops, best first: its topic, else its purpose."""
    scopes = [f"topic:{message.topic}"] if message.topic else []
    return [*scopes, f"purpose:{_intent_purpose(message)}"]


def _send_batch(
    sessions: SessionFactory,
    settings: Settings,
    ready: Sequence[Prepared],
    now: datetime,
    report: DeliveryReport,
) -> bool:
    """Send each message and record it, in a transaction of its own, before the next is handed
    over; False when the provider was down (the rest of the batch was given back).

    A record is committed by the :class:`Recorder`'s thread while this one sends the next
    message's envelope and data; the next message's final step (SMTP's closing ``.``, a
    gateway's POST) waits for that commit. Every change to ``report`` is made by a record, or
    here after :meth:`Recorder.wait`, never by both threads at once."""
    transports: dict[bool, Transport] = {}
    # A slow provider must not let the lease run out under a batch still being sent: past a
    # third of the lease, the batch's remaining claims are renewed.
    renew_after = settings.outbox_lease_seconds / 3
    started = renewed = time.monotonic()
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
                        partial(_bounce, item=item, error=str(error), now=now, report=report)
                    )
                except (TryAgain, Down) as error:
                    recorder.record(
                        partial(
                            _retry,
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
        decision_id=message.decision_id,  # checked in _prepare
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


def _bounce(
    session: Session, *, item: Prepared, error: str, now: datetime, report: DeliveryReport
) -> None:
    message = item.message
    if store.mark_final(session, message, state=OutboxState.bounced, error=error):
        record_delivery_failure(
            session=session,
            customer_id=message.customer_id,
            channel=message.channel,
            point_hash=item.point_hash,
            permanent=True,
            reason=error,
            at=now,
        )
    report.bounced += 1


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: the first wait, doubled each time."""
    return timedelta(seconds=settings.outbox_retry_seconds * 2 ** max(attempts - 1, 0))


def _retry(
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
    if store.mark_final(session, message, state=OutboxState.failed, error=error):
        record_delivery_failure(
            session=session,
            customer_id=message.customer_id,
            channel=message.channel,
            point_hash=item.point_hash,
            permanent=False,
            reason=error,
            at=now,
        )
    report.failed += 1
