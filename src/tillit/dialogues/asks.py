"""Asks: putting one question to one customer, on a channel, for a reason.

Outbound invitations (e-mail) are scheduled, then :func:`deliver_due` runs the fatigue rules
and the contact policy (kind ``dialogue``) at the moment of sending. Questions shown in place
(personal web link, widget, API) check the fatigue rules and the customer's own dialogue and
research-consent choices, since nothing is sent to them.

A token is ``<ask id>.<secret>``; only its HMAC is stored, like the preference-centre links.
It answers once (single use); afterwards it shows the customer their answer and case status.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.decision_log import record_send
from tillit.consent.links import LinkGone
from tillit.consent.preferences import current_preferences
from tillit.contact import reasons
from tillit.contact.models import DIALOGUE_PURPOSE, ConsentStatus, LegalBasis
from tillit.contact.service import company_policy, contact_state, decide_for
from tillit.customers.models import Customer, CustomerStatus
from tillit.dialogues import catalogue
from tillit.dialogues.fatigue import PastAsk, blocked_by
from tillit.dialogues.models import Ask, AskStatus, Question, Response
from tillit.dialogues.selection import Candidate, choose
from tillit.errors import NotFound
from tillit.i18n import negotiate
from tillit.storage.base import utcnow

IN_PLACE = ("web", "widget", "api")
OUTBOUND = ("email",)


@dataclass(frozen=True)
class IssuedAsk:
    ask: Ask
    token: str

    def url(self, base_url: str) -> str:
        return ask_url(base_url, self.token)


logger = logging.getLogger(__name__)


def ask_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/d/{token}"


def _mac(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), f"ask:{token}".encode(), hashlib.sha256).hexdigest()


def issue_token(ask: Ask, secret_key: str) -> str:
    token = f"{ask.id}.{secrets.token_urlsafe(24)}"
    ask.secret_hash = _mac(secret_key, token)
    return token


def resolve_token(*, session: Session, token: str, secret_key: str) -> Ask:
    ask_id, _, rest = token.partition(".")
    ask = session.get(Ask, int(ask_id)) if ask_id.isdigit() and rest else None
    if (
        ask is None
        or ask.secret_hash is None
        or not hmac.compare_digest(ask.secret_hash, _mac(secret_key, token))
    ):
        raise LinkGone("this link is not valid")
    customer = session.get(Customer, ask.customer_id)
    if customer is None or customer.status == CustomerStatus.erased:
        raise LinkGone("this link is not valid")
    return ask


def history(session: Session, customer_id: int) -> list[PastAsk]:
    rows = session.execute(
        select(Ask.question_id, Ask.created_at, Ask.status).where(Ask.customer_id == customer_id)
    )
    return [PastAsk(q, at, status) for q, at, status in rows]


def may_ask_in_place(*, session: Session, settings: Settings, customer_id: int) -> str | None:
    """Why a question must not be shown to this customer at all, or None when it may."""
    if not current_preferences(session=session, customer_id=customer_id).dialogues:
        return reasons.DIALOGUES_OFF
    state = contact_state(session=session, customer_id=customer_id, settings=settings)
    if state.erased or state.suppressed:
        return "erased" if state.erased else "suppressed"
    basis = company_policy(session=session, settings=settings).purposes.get(DIALOGUE_PURPOSE)
    consent = state.consents.get(DIALOGUE_PURPOSE)
    if basis is None:
        return "no_legal_basis"
    if basis is LegalBasis.CONSENT and consent is not ConsentStatus.GRANTED:
        return "no_consent"
    if consent in (ConsentStatus.DENIED, ConsentStatus.WITHDRAWN):
        return "objected"
    return None


def language_of(session: Session, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    chosen = current_preferences(session=session, customer_id=customer_id).language
    return negotiate(chosen, customer.language)


def _new_ask(
    session: Session,
    *,
    customer_id: int,
    question: Question,
    channel: str,
    trigger: str,
    reason: str,
    status: str,
    due_at: datetime,
    expires_days: int,
    exempt: bool = False,
) -> Ask:
    version = catalogue.current_version(session=session, question=question)
    ask = Ask(
        customer_id=customer_id,
        question_id=question.id,
        version_id=version.id,
        channel=channel,
        trigger=trigger,
        reason=reason,
        status=status,
        exempt=exempt,
        language=language_of(session, customer_id),
        created_at=due_at,
        due_at=due_at,
        expires_at=due_at + timedelta(days=expires_days),
    )
    session.add(ask)
    session.flush()
    return ask


def ask_in_place(
    *,
    session: Session,
    settings: Settings,
    customer_id: int,
    question: Question,
    channel: str,
    trigger: str,
    reason: str,
    now: datetime | None = None,
    exempt: bool = False,
) -> IssuedAsk | None:
    """Show ``question`` now (web link, widget, API) if every rule allows; None otherwise."""
    now = now or utcnow()
    if may_ask_in_place(session=session, settings=settings, customer_id=customer_id):
        return None
    if blocked_by(
        history(session, customer_id),
        question_id=question.id,
        recontact_days=question.recontact_days,
        now=now,
        exempt=exempt,
        cooldown=timedelta(days=settings.dialogue_cooldown_days),
    ):
        return None
    ask = _new_ask(
        session,
        customer_id=customer_id,
        question=question,
        channel=channel,
        trigger=trigger,
        reason=reason,
        status=AskStatus.pending,
        due_at=now,
        expires_days=settings.dialogue_ask_days,
        exempt=exempt,
    )
    return IssuedAsk(ask=ask, token=issue_token(ask, settings.secret_key))


def schedule(
    *,
    session: Session,
    customer_id: int,
    question: Question,
    trigger: str,
    reason: str,
    due_at: datetime,
    channel: str = "email",
    exempt: bool = False,
    expires_days: int = 14,
) -> Ask | None:
    """Plan an invitation; rules are checked when it is due. One plan per question at a time."""
    waiting = session.scalar(
        select(Ask.id).where(
            Ask.customer_id == customer_id,
            Ask.question_id == question.id,
            Ask.status == AskStatus.scheduled,
        )
    )
    if waiting is not None:
        return None
    return _new_ask(
        session,
        customer_id=customer_id,
        question=question,
        channel=channel,
        trigger=trigger,
        reason=reason,
        status=AskStatus.scheduled,
        due_at=due_at,
        expires_days=expires_days,
        exempt=exempt,
    )


def on_event(session: Session, customer_id: int, event_name: str, at: datetime) -> list[Ask]:
    """Called by the events area for every tracked event: schedules the questions it triggers
    (e.g. ``Order Completed`` -> CSAT two days later)."""
    planned = []
    for question in session.scalars(
        select(Question).where(Question.trigger_event == event_name, Question.active.is_(True))
    ):
        ask = schedule(
            session=session,
            customer_id=customer_id,
            question=question,
            trigger=event_name,
            due_at=at + timedelta(hours=question.delay_hours),
            reason=f"asked because: {event_name} at {at.isoformat()} (+{question.delay_hours} h)",
        )
        if ask is not None:
            planned.append(ask)
    return planned


def schedule_periodic(*, session: Session, now: datetime, limit: int = 10_000) -> int:
    """Plan periodic questions (relationship NPS) for customers not asked within the period."""
    planned = 0
    for question in session.scalars(
        select(Question).where(Question.period_days.is_not(None), Question.active.is_(True))
    ):
        since = now - timedelta(days=question.period_days or 0)
        recent = select(Ask.customer_id).where(
            Ask.question_id == question.id, Ask.created_at > since
        )
        customers = session.scalars(
            select(Customer.id)
            .where(Customer.status == CustomerStatus.active, Customer.id.not_in(recent))
            .limit(limit)
        )
        for customer_id in customers:
            if schedule(
                session=session,
                customer_id=customer_id,
                question=question,
                trigger="periodic",
                due_at=now,
                reason=f"asked because: periodic every {question.period_days} days",
            ):
                planned += 1
    return planned


Sender = Callable[[Ask, str], None]  # (ask, token) -> send it, raising on failure


def deliver_due(
    *,
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    send: Sender,
) -> dict[str, int]:
    """Send the invitations that are due, each through the fatigue rules and contact policy.

    Commits after every ask: an e-mail that went out is recorded before the next one is tried,
    so a failure later in the run never turns sent invitations back into unsent ones (which
    would send them twice). An ask whose sending fails stays scheduled for the next run."""
    now = now or utcnow()
    counts = {"sent": 0, "deferred": 0, "held": 0, "failed": 0}
    due = list(
        session.scalars(
            select(Ask)
            .where(Ask.status == AskStatus.scheduled, Ask.due_at <= now)
            .order_by(Ask.due_at, Ask.id)
        )
    )
    for ask in due:
        try:
            with session.begin_nested():
                outcome = _deliver_one(session, settings, ask, now, send)
        except (OSError, smtplib.SMTPException) as error:  # the mail server, not our data
            logger.warning("invitation for ask %s not sent: %s", ask.id, error)
            outcome = "failed"
        session.commit()
        counts[outcome] += 1
    return counts


def _hold(ask: Ask, reason: str, now: datetime) -> str:
    ask.status, ask.held_reason, ask.closed_at = AskStatus.held, reason, now
    return "held"


def _deliver_one(
    session: Session, settings: Settings, ask: Ask, now: datetime, send: Sender
) -> str:
    question = session.get_one(Question, ask.question_id)
    if not question.active:
        return _hold(ask, "question_inactive", now)
    if not current_preferences(session=session, customer_id=ask.customer_id).dialogues:
        return _hold(ask, reasons.DIALOGUES_OFF, now)
    others = [a for a in history(session, ask.customer_id) if a.status != AskStatus.scheduled]
    rule = blocked_by(
        others,
        question_id=question.id,
        recontact_days=question.recontact_days,
        now=now,
        cooldown=timedelta(days=settings.dialogue_cooldown_days),
        exempt=ask.exempt,
    )
    if rule:
        return _hold(ask, rule, now)
    decided = decide_for(
        session=session,
        customer_id=ask.customer_id,
        purpose=DIALOGUE_PURPOSE,
        kind="dialogue",
        channel=ask.channel,
        topic=None,
        at=now,
        settings=settings,
        log=True,
    )
    ask.decision_id = decided.logged_id
    outcome = decided.decision.outcome.value
    if outcome == "deferred" and decided.decision.defer_until is not None:
        ask.due_at = decided.decision.defer_until
        return "deferred"
    if outcome != "allowed":
        return _hold(ask, decided.decision.reason or outcome, now)
    token = issue_token(ask, settings.secret_key)
    send(ask, token)
    record_send(
        session=session,
        customer_id=ask.customer_id,
        channel=ask.channel,
        kind="dialogue",
        decision_id=decided.logged_id,
        sent_at=now,
    )
    ask.status, ask.created_at = AskStatus.pending, now
    ask.expires_at = now + timedelta(days=settings.dialogue_ask_days)
    return "sent"


def next_question(
    *,
    session: Session,
    settings: Settings,
    customer_id: int,
    channel: str,
    now: datetime | None = None,
) -> IssuedAsk | None:
    """Progressive profiling: the best next question for this customer, if any may be asked."""
    now = now or utcnow()
    if may_ask_in_place(session=session, settings=settings, customer_id=customer_id):
        return None
    past = history(session, customer_id)
    cooldown = timedelta(days=settings.dialogue_cooldown_days)
    candidates = []
    for question in session.scalars(
        select(Question).where(
            Question.active.is_(True),
            Question.trigger_event.is_(None),
            Question.key != catalogue.RECOVERY,
        )
    ):
        if blocked_by(
            past,
            question_id=question.id,
            recontact_days=question.recontact_days,
            now=now,
            cooldown=cooldown,
        ):
            continue
        candidates.append(_candidate(session, customer_id, question))
    choice = choose(candidates, customer_id=customer_id, seed=settings.dialogue_seed, now=now)
    if choice is None:
        return None
    question = session.get_one(Question, choice.candidate.question_id)
    return ask_in_place(
        session=session,
        settings=settings,
        customer_id=customer_id,
        question=question,
        channel=channel,
        trigger="profiling",
        reason=choice.reason,
        now=now,
    )


def _candidate(session: Session, customer_id: int, question: Question) -> Candidate:
    mine = session.execute(
        select(func.count(), func.max(Response.answered_at)).where(
            Response.customer_id == customer_id, Response.question_id == question.id
        )
    ).one()
    total = session.scalar(select(func.count()).where(Response.question_id == question.id))
    return Candidate(
        question_id=question.id,
        key=question.key,
        priority=question.priority,
        recontact_days=question.recontact_days,
        last_answer_at=mine[1],
        answers_by_customer=mine[0],
        answers_total=total or 0,
    )


def expire_overdue(*, session: Session, now: datetime | None = None) -> int:
    """Close unanswered asks past their time; they still count for the cool-down."""
    now = now or utcnow()
    asks = list(
        session.scalars(select(Ask).where(Ask.status == AskStatus.pending, Ask.expires_at <= now))
    )
    for ask in asks:
        ask.status, ask.closed_at = AskStatus.expired, now
    return len(asks)


def decline(*, session: Session, ask: Ask, now: datetime | None = None) -> None:
    """The customer does not want this question: it is never asked again."""
    if ask.status in (AskStatus.pending, AskStatus.scheduled):
        ask.status, ask.closed_at = AskStatus.declined, now or utcnow()


def open_asks(*, session: Session, customer_id: int) -> list[Ask]:
    return list(
        session.scalars(
            select(Ask)
            .where(Ask.customer_id == customer_id, Ask.status == AskStatus.pending)
            .order_by(Ask.id)
        )
    )
