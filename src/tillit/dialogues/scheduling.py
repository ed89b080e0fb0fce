"""Planning outbound invitations: for an event that triggers a question (``Order Completed`` ->
CSAT two days later) and for periodic questions (relationship NPS). The rules are checked
when an invitation is due (:mod:`tillit.dialogues.delivery`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.customers.models import Customer, CustomerStatus
from tillit.dialogues.asks import new_ask
from tillit.dialogues.audience import may_ask
from tillit.dialogues.models import Ask, AskStatus, Question


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
