"""Getting a claimed batch ready to send, in one transaction: the contact policy at the moment
of sending (a customer who unsubscribed since the message was planned is not sent it:
``held``; quiet hours or a cap: ``deferred``), each customer's address, preference-centre link
and one-click unsubscribe token. Everything is looked up for the whole batch at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.links import create_links
from tillit.consent.suppression import contact_point_hash
from tillit.consent.unsubscribe import unsubscribe_tokens, unsubscribe_url
from tillit.contact.models import CAPPED_KINDS, DIALOGUE_PURPOSE
from tillit.contact.service import decide_audience, make_intent
from tillit.contact.state import REACHING
from tillit.contact.tables import DecisionRecord, DeliveryFailure
from tillit.customers.models import Identity
from tillit.errors import TillitError
from tillit.outbox import store
from tillit.outbox.models import OutboxState
from tillit.outbox.report import DeliveryReport
from tillit.outbox.smtp_transport import message_id
from tillit.outbox.store import Claimed
from tillit.outbox.transport import Prepared
from tillit.storage.session import SessionFactory, make_session_factory
from tillit.vocabulary import MessageKind, OutboundChannel

ACTOR = Actor.system("outbox")


def _intent_purpose(message: Claimed) -> str:
    if message.purpose_key:
        return message.purpose_key
    if message.kind == MessageKind.dialogue:
        return DIALOGUE_PURPOSE
    return "marketing" if message.kind == MessageKind.marketing else "service"


def prepare(
    sessions: SessionFactory,
    settings: Settings,
    batch: Sequence[Claimed],
    now: datetime,
    report: DeliveryReport,
) -> list[Prepared]:
    """The policy check, addresses and links for a claimed batch: what is read in a read-only
    transaction, then what is written (the held and deferred, the links and tokens) in one
    short one. On SQLite a read-only transaction leaves the write lock to the records of the
    batch being sent meanwhile (:func:`tillit.outbox.delivery.send_due`)."""
    with make_session_factory(sessions.kw["bind"], read_only=True)() as session, session.begin():
        outcomes = _policy(session, settings, batch, now)
        allowed = [
            message
            for message in batch
            if message.attempts <= settings.outbox_max_attempts
            and outcomes[message.id][0] == "allowed"
        ]
        points, failing = _contact_points(session, settings, allowed)
        decisions = _allowed_decisions(session, allowed)
    ready: list[Prepared] = []
    with sessions() as session, session.begin():
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
            elif outcome == "deferred" and until is not None:
                store.requeue(
                    session, message, at=until, error=f"deferred: {reason}", counts_as_attempt=False
                )
                report.deferred += 1
            elif outcome != "allowed":
                store.mark_final(session, message, state=OutboxState.held, error=reason)
                report.held += 1
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
