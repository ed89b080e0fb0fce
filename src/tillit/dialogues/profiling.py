"""Progressive profiling: the best next question for a customer, shown in place."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.dialogues import catalogue
from tillit.dialogues.ask_links import IssuedAsk
from tillit.dialogues.asks import history
from tillit.dialogues.audience import may_ask
from tillit.dialogues.fatigue import blocked_by
from tillit.dialogues.in_place import ask_in_place, may_ask_in_place
from tillit.dialogues.models import Question, Response
from tillit.dialogues.selection import Candidate, choose
from tillit.storage.base import utcnow


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
        if not may_ask(session, question, customer_id):  # the question is for a segment
            continue
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
