"""Asks: putting one question to one customer, on a channel, for a reason. This module holds
the ask itself (made, listed, closed); the rest of its life is in :mod:`ask_links` (the
single-use link), :mod:`in_place` (shown now on the web, in the widget or by the API),
:mod:`scheduling` and :mod:`delivery` (outbound invitations, planned and then sent through
the fatigue rules and the contact policy) and :mod:`profiling` (the best next question)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent.preferences import current_preferences
from tillit.customers.models import Customer
from tillit.dialogues import catalogue
from tillit.dialogues.fatigue import PastAsk
from tillit.dialogues.models import Ask, AskStatus, Question, QuestionVersion
from tillit.errors import NotFound
from tillit.i18n import negotiate
from tillit.storage.base import utcnow

IN_PLACE = ("web", "widget", "api")
OUTBOUND = ("email",)


def history(session: Session, customer_id: int) -> list[PastAsk]:
    rows = session.execute(
        select(Ask.question_id, Ask.created_at, Ask.status).where(Ask.customer_id == customer_id)
    )
    return [PastAsk(q, at, status) for q, at, status in rows]


def language_of(session: Session, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    chosen = current_preferences(session=session, customer_id=customer_id).language
    return negotiate(chosen, customer.language)


def new_ask(
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


def ask_by_id(*, session: Session, ask_id: int) -> Ask | None:
    return session.get(Ask, ask_id)


def question_of(*, session: Session, ask: Ask) -> tuple[Question, QuestionVersion]:
    """The question an ask put, in the version the customer was shown."""
    return (
        session.get_one(Question, ask.question_id),
        session.get_one(QuestionVersion, ask.version_id),
    )
