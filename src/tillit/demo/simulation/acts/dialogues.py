"""Dialogues, week by week through the last months of the year: the periodic NPS and order
CSAT invitations planned and sent through the fatigue rules and the contact policy, profiling
questions asked in place on the web, answers, cases opened by unhappy answers, agents who
reply and resolve most of them in time (recovery question, then CES on the closed ticket),
and some that wait past their SLA and are escalated."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.demo.simulation.acts.answers import answer
from tillit.demo.simulation.world import World
from tillit.dialogues import asks, cases, delivery, profiling, responses, scheduling
from tillit.dialogues.models import Ask, AskStatus, Case, CaseStatus, Question, QuestionVersion
from tillit.errors import Conflict

MONTHS = 2  # dialogues run through the year's last months (the product's newest capability)
AGENT = Actor(type="staff", id="agent@example.com", label="Agnes Agent")


def act(world: World, progress: Callable[[int, int], None]) -> None:
    rng = world.rng("dialogues")
    end = world.clock.end
    first = max(world.clock.start, end - timedelta(days=30.4 * MONTHS))
    rounds = max(1, int((end - first) / timedelta(days=7)))
    handled: set[int] = set()
    for number in range(rounds + 1):
        now = min(first + timedelta(days=7 * number), end)
        with world.sessions() as session:
            _round(world, session, rng, now, handled)
            session.commit()
        progress(number + 1, rounds + 1)
    with world.sessions() as session, session.begin():
        world.counts["asks expired"] += asks.expire_overdue(session=session, now=end)
        world.counts["cases escalated"] += len(cases.escalate_overdue(session, end))


def _round(
    world: World, session: Session, rng: random.Random, now: datetime, handled: set[int]
) -> None:
    since = now - timedelta(days=7)
    orders = []  # the web shop's hook plans CSAT after its orders
    for index, at, web in world.orders:
        ids = world.profiles.get(index)
        if web and ids and since < at <= now and index not in world.erased:
            orders.append((ids[-1], "Order Completed", at))
    scheduling.on_events(session, orders)
    quota = max(5, len(world.people) // 40)
    _support(world, session, rng, since, quota // 2)
    world.counts["asks planned"] += scheduling.schedule_periodic(
        session=session, now=now, limit=quota
    )
    session.commit()
    sent = delivery.deliver_due(session=session, settings=world.settings, now=now, send=_outbox)
    for outcome, count in sent.items():
        world.counts[f"invitations {outcome}"] += count
    _in_place(world, session, rng, now, quota // 2)
    _answers(world, session, rng, since, now)
    _agents(world, session, rng, now, handled)
    world.counts["cases escalated"] += len(cases.escalate_overdue(session, now))


def _support(
    world: World, session: Session, rng: random.Random, since: datetime, count: int
) -> None:
    """Questions answered by customer service (chat, phone) in the week: each closed ticket
    is the trigger of the CES question, which the fatigue rules may still hold back."""
    people = world.everyone_with_profiles()
    for _, ids in rng.sample(people, min(count, len(people))):
        at = since + timedelta(days=rng.uniform(0, 7))
        scheduling.on_event(session, ids[0], "Ticket Closed", at)


def _outbox(ask: Ask, token: str) -> None:
    """The demo sends no e-mail: the invitation counts as sent once the policy allowed it."""


def _in_place(
    world: World, session: Session, rng: random.Random, now: datetime, count: int
) -> None:
    """Visitors of the web shop who see a question in the page (progressive profiling)."""
    visitors = [ids[-1] for p, ids in world.everyone_with_profiles() if p.web]
    for customer_id in rng.sample(visitors, min(count, len(visitors))):
        at = min(now + timedelta(hours=rng.uniform(0, 72)), world.clock.end)
        if profiling.next_question(
            session=session, settings=world.settings, customer_id=customer_id, channel="web", now=at
        ):
            world.counts["asked in place"] += 1


def _answers(
    world: World, session: Session, rng: random.Random, since: datetime, now: datetime
) -> None:
    waiting = session.scalars(
        select(Ask)
        .where(Ask.status == AskStatus.pending, Ask.created_at > since - timedelta(days=3))
        .order_by(Ask.id)
    ).all()
    for ask in waiting:
        index = world.owner.get(ask.customer_id)
        if index is None or index in world.erased:
            continue
        person = world.people[index]
        if rng.random() > person.responsiveness:
            continue
        question = session.get_one(Question, ask.question_id)
        version = session.get_one(QuestionVersion, ask.version_id)
        given = answer(rng, person, question, version)
        at = min(ask.created_at + timedelta(hours=rng.uniform(0.2, 48)), world.clock.end)
        if given is None or at >= ask.expires_at:
            continue
        try:
            responses.submit(
                session=session, settings=world.settings, ask=ask, answer=given, now=at
            )
        except Conflict:
            continue
        world.counts[f"answers {question.type}"] += 1


def _agents(
    world: World, session: Session, rng: random.Random, now: datetime, handled: set[int]
) -> None:
    """Most cases are answered and resolved within a day or two; one in ten waits too long."""
    waiting = session.scalars(select(Case).where(Case.status != CaseStatus.resolved)).all()
    for case in waiting:
        if case.id in handled or case.created_at > now - timedelta(days=1):
            continue  # done with, or the agents see it next week
        handled.add(case.id)
        luck = rng.random()
        at = case.created_at + timedelta(hours=rng.uniform(2, 60))
        if len(handled) % 10 == 1:
            continue  # one in ten, from the first (so a small demo has one too): it breaches
        if luck < 0.1:
            cases.add_note(
                session=session, case_id=case.id, body=_REPLY, actor=AGENT, reply=True, now=at
            )
            continue
        cases.resolve(
            session=session, settings=world.settings, case_id=case.id, actor=AGENT, now=at
        )
        scheduling.on_event(session, case.customer_id, "Ticket Closed", at)
        world.counts["cases resolved"] += 1


_REPLY = "Thank you for telling us. We are looking into it and will come back to you."
