"""Planning outbound invitations: for an event that triggers a question (``Order Completed`` ->
CSAT two days later) and for periodic questions (relationship NPS). The rules are checked
when an invitation is due (:mod:`tillit.dialogues.delivery`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.customers.models import Customer, CustomerStatus
from tillit.dialogues.asks import language_of, new_ask
from tillit.dialogues.audience import may_ask
from tillit.dialogues.catalogue import current_version
from tillit.dialogues.models import Ask, AskStatus, Question, QuestionVersion

EXPIRES_DAYS = 14  # an invitation's link works this long after it is due


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
    expires_days: int = EXPIRES_DAYS,
) -> Ask | None:
    """Plan an invitation; rules are checked when it is due. One plan per question at a time."""
    if not may_ask(session, question, customer_id):  # the question is for a segment
        return None
    waiting = session.scalar(
        select(Ask.id).where(
            Ask.customer_id == customer_id,
            Ask.question_id == question.id,
            Ask.status == AskStatus.scheduled,
        )
    )
    if waiting is not None:
        return None
    return new_ask(
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
    return on_events(session, [(customer_id, event_name, at)])


Triggered = tuple[int, str, datetime]  # customer, event name, when


def on_events(session: Session, events: Sequence[Triggered]) -> list[Ask]:
    """:func:`on_event` for many events, in their order, with the same outcome (one plan per
    customer and question at a time), in a handful of queries for the whole batch instead of
    about ten per event: a batch of tracked orders, or the simulator's week of them."""
    names = {name for _, name, _ in events}
    if not names:
        return []
    questions: dict[str, list[Question]] = {}
    for question in session.scalars(
        select(Question)
        .where(Question.trigger_event.in_(names), Question.active.is_(True))
        .order_by(Question.id)
    ):
        questions.setdefault(question.trigger_event or "", []).append(question)
    if not questions:
        return []
    customers = {customer_id for customer_id, name, _ in events if name in questions}
    asked = {q.id for found in questions.values() for q in found}
    rows = session.execute(
        select(Ask.customer_id, Ask.question_id).where(
            Ask.customer_id.in_(customers),
            Ask.question_id.in_(asked),
            Ask.status == AskStatus.scheduled,
        )
    )
    waiting = {(customer_id, question_id) for customer_id, question_id in rows}
    versions: dict[int, QuestionVersion] = {}
    languages: dict[int, str] = {}
    planned = []
    for customer_id, event_name, at in events:
        for question in questions.get(event_name, []):
            if (customer_id, question.id) in waiting:
                continue
            if not may_ask(session, question, customer_id):  # the question is for a segment
                continue
            if question.id not in versions:
                versions[question.id] = current_version(session=session, question=question)
            if customer_id not in languages:
                languages[customer_id] = language_of(session, customer_id)
            due_at = at + timedelta(hours=question.delay_hours)
            planned.append(
                Ask(
                    customer_id=customer_id,
                    question_id=question.id,
                    version_id=versions[question.id].id,
                    channel="email",
                    trigger=event_name,
                    reason=(
                        f"asked because: {event_name} at {at.isoformat()} "
                        f"(+{question.delay_hours} h)"
                    ),
                    status=AskStatus.scheduled,
                    exempt=False,
                    language=languages[customer_id],
                    created_at=due_at,
                    due_at=due_at,
                    expires_at=due_at + timedelta(days=EXPIRES_DAYS),
                )
            )
            waiting.add((customer_id, question.id))
    session.add_all(planned)
    session.flush()
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
