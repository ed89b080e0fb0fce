"""A campaign triggered by a goal: it names an analytics goal instead of an event, and each round
plans for the audience members who reached that goal in the last day. Exactly one of event and
goal; an unknown goal is refused in words when the campaign is drafted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tillit.analytics.goal_store import define_goal
from tillit.campaigns import service
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.models import Campaign, CampaignMessage
from tillit.errors import InvalidInput
from tillit.staff.scopes import CAMPAIGNS_DRAFT

from .helpers import ACTOR, customer, definition, segment, views
from .test_editor import FORM

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday, noon in London
ON_ORDER = {"type": "triggered", "goal": "gold-order"}


def _fields(schedule: dict) -> list[str]:
    with pytest.raises(InvalidInput) as error:
        parse_definition(definition(schedule=schedule))
    return [e.field for e in error.value.errors]


def test_a_triggered_schedule_names_an_event_or_a_goal_never_both():
    assert _fields({"type": "triggered"}) == ["schedule.event"]
    assert _fields({"type": "triggered", "event": "Order Completed", "goal": "gold-order"}) == [
        "schedule.goal"
    ]
    assert _fields({"type": "once", "goal": "gold-order"}) == ["schedule.goal"]
    assert _fields({"type": "triggered", "goal": "Not A Key"}) == ["schedule.goal"]
    assert parse_definition(definition(schedule=ON_ORDER)).schedule.goal == "gold-order"


def test_an_unknown_goal_is_refused_when_drafted_and_nothing_is_written(
    client, sessions, token_for
):
    segment(sessions, [])
    drafter = {"Authorization": f"Bearer {token_for(CAMPAIGNS_DRAFT)}"}
    answer = client.post(
        "/api/v1/campaigns",
        json=definition(schedule={"type": "triggered", "goal": "nope"}),
        headers=drafter,
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "schedule.goal", "message": "no goal has the key 'nope'"}
    ]
    with sessions() as session:
        assert session.scalar(select(Campaign.id)) is None


def test_a_round_plans_for_members_who_reached_the_goal_in_the_last_day(
    sessions, defaults, settings
):
    reached = customer(sessions, defaults, name="Anna Berg")
    too_early = customer(sessions, defaults, name="Bo Lind")
    other_plan = customer(sessions, defaults, name="Carl Ek")
    outsider = customer(sessions, defaults, name="Dan Ek")  # reached it, not in the segment
    idle = customer(sessions, defaults, name="Eva Holm")
    segment(sessions, [reached, too_early, other_plan, idle])
    views(sessions, reached, "gold", 1, NOW, name="Order Completed")
    views(sessions, too_early, "gold", 1, NOW - timedelta(days=2), name="Order Completed")
    views(sessions, other_plan, "silver", 1, NOW, name="Order Completed")
    views(sessions, outsider, "gold", 1, NOW, name="Order Completed")
    with sessions() as session, session.begin():
        define_goal(
            session=session,
            key="gold-order",
            name="Gold order",
            actor=ACTOR,
            event="Order Completed",
            filters={"category": "gold"},
        )
        service.create_campaign(
            session=session,
            definition=parse_definition(
                definition(schedule=ON_ORDER, relevance={"enabled": False})
            ),
            actor=ACTOR,
        )
        service.approve_campaign(session=session, key="spring-shoes", actor=ACTOR)
    with sessions() as session, session.begin():
        report = service.plan_campaign(
            session=session, settings=settings, key="spring-shoes", actor=ACTOR, now=NOW
        )
    assert (report.audience, report.scheduled) == (1, 1)
    with sessions() as session:
        planned = session.scalars(select(CampaignMessage.customer_id)).all()
    assert planned == [reached]


def test_the_campaign_page_says_which_goal_starts_it(client, sessions, staff_as):
    segment(sessions, [])
    with sessions() as session, session.begin():
        define_goal(session=session, key="gold-order", name="Gold order", actor=ACTOR, event="Paid")
        service.create_campaign(
            session=session,
            definition=parse_definition(definition(schedule=ON_ORDER)),
            actor=ACTOR,
        )
    staff_as("analyst")
    page = client.get("/staff/campaigns/spring-shoes")
    assert page.status_code == 200
    assert "When a customer reaches the goal “Gold order”" in page.text
    assert "gold-order" not in page.text.split("<dt>Schedule</dt>")[1].split("</dd>")[0]


def test_the_editor_takes_the_goal_that_triggers_it(client, sessions, staff_as):
    segment(sessions, [])
    with sessions() as session, session.begin():
        define_goal(session=session, key="gold-order", name="Gold order", actor=ACTOR, event="Paid")
    _, csrf = staff_as("analyst")
    form = {**FORM, "csrf_token": csrf, "schedule_type": "triggered"}
    unknown = client.post("/staff/campaigns", data={**form, "trigger_goal": "nope"})
    assert unknown.status_code == 422
    assert "schedule.goal: no goal has the key &#39;nope&#39;" in unknown.text
    made = client.post(
        "/staff/campaigns", data={**form, "trigger_goal": "gold-order"}, follow_redirects=False
    )
    assert made.status_code == 303
    with sessions() as session:
        stored = session.scalar(select(Campaign.definition))
    assert stored["schedule"] == {
        "type": "triggered",
        "at": None,
        "every_days": None,
        "event": None,
        "goal": "gold-order",
    }
