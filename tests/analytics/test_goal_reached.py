"""Who reached a goal in a span of time, read from the operational tables (what a campaign
triggered by a goal plans for): the goal's event with its filters inside the span, a first
consent grant inside it, an answer to the goal's question (or any) inside it, a profile created
inside it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.campaigns.helpers import ACTOR, customer, views
from tillit.analytics.goal_store import define_goal, reached_between
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, ConsentRecord, Method
from tillit.dialogues import catalogue, in_place
from tillit.dialogues.responses import Answer, submit
from tillit.storage.base import utcnow


def _goal(sessions, key: str, **fields) -> None:
    with sessions() as session, session.begin():
        define_goal(session=session, key=key, name=key.title(), actor=ACTOR, **fields)


def _reached(sessions, key: str, since, until) -> set[int]:
    with sessions() as session:
        return reached_between(session=session, key=key, since=since, until=until)


def test_an_event_goal_is_reached_by_its_event_with_its_filters_inside_the_span(sessions, defaults):
    now = utcnow()
    gold = customer(sessions, defaults, name="Anna Berg")
    silver = customer(sessions, defaults, name="Bo Lind")
    earlier = customer(sessions, defaults, name="Carl Ek")
    views(sessions, gold, "gold", 1, now, name="Order Completed")
    views(sessions, silver, "silver", 1, now, name="Order Completed")
    views(sessions, earlier, "gold", 1, now - timedelta(days=2), name="Order Completed")
    views(sessions, silver, "gold", 2, now, name="Product Viewed")
    _goal(sessions, "gold-order", event="Order Completed", filters={"category": "gold"})
    _goal(sessions, "any-order", event="Order Completed")

    day = (now - timedelta(days=1), now)
    assert _reached(sessions, "gold-order", *day) == {gold}
    assert _reached(sessions, "any-order", *day) == {gold, silver}
    assert _reached(sessions, "any-order", now - timedelta(days=3), now) == {gold, silver, earlier}
    assert _reached(sessions, "no-such-goal", *day) == set()


def test_consent_and_signup_goals_count_the_first_grant_and_the_new_profile(sessions, defaults):
    first_time = customer(sessions, defaults, name="Dan Ek")
    again = customer(sessions, defaults, name="Eva Holm")
    with sessions() as session, session.begin():
        # Eva first agreed ten days ago; agreeing again today is not entering the base.
        session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.customer_id == again)
            .values(recorded_at=utcnow() - timedelta(days=10))
        )
        record_consent(
            session=session,
            customer_id=again,
            purpose_key="marketing",
            decision=ConsentDecision.granted,
            method=Method.api,
            actor=ACTOR,
        )
    _goal(sessions, "lead", kind="consent", purpose="marketing")
    _goal(sessions, "new-customer", kind="signup")

    now = utcnow()
    day = (now - timedelta(days=1), now)
    assert _reached(sessions, "lead", *day) == {first_time}
    assert _reached(sessions, "new-customer", *day) == {first_time, again}
    assert _reached(sessions, "new-customer", now - timedelta(days=3), now - timedelta(days=2)) == (
        set()
    )


def test_an_answer_goal_is_reached_by_an_answer_to_its_question(sessions, defaults, settings):
    answered = customer(sessions, defaults, name="Freja Dahl", locale="sv-SE")
    customer(sessions, defaults, name="Gustav Ek", locale="sv-SE")  # asked nothing
    with sessions() as session, session.begin():
        record_consent(
            session=session,
            customer_id=answered,
            purpose_key="research",
            decision=ConsentDecision.granted,
            method=Method.api,
            actor=ACTOR,
        )
    with sessions() as session, session.begin():
        question = catalogue.get_question(session=session, key="rel_frequency")
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=answered,
            question=question,
            channel="web",
            trigger="test",
            reason="t",
        )
        assert issued is not None
        submit(
            session=session, settings=settings, ask=issued.ask, answer=Answer(choices=("month_1",))
        )
    _goal(sessions, "said-how-often", kind="answer", question="rel_frequency")
    _goal(sessions, "any-answer", kind="answer")
    _goal(sessions, "other-question", kind="answer", question="rel_channels")

    now = utcnow()
    day = (now - timedelta(days=1), now)
    assert _reached(sessions, "said-how-often", *day) == {answered}
    assert _reached(sessions, "any-answer", *day) == {answered}
    assert _reached(sessions, "other-question", *day) == set()
    assert _reached(sessions, "any-answer", now - timedelta(days=3), now - timedelta(days=2)) == (
        set()
    )
