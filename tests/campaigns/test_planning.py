"""Planning a campaign on SQLite and PostgreSQL: every audience member is scheduled or held for
exactly one reason (the policy's, not relevant, no content in their language, the campaign's
own frequency, the hold-out), counted per reason and kept per member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tillit.campaigns import service
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.models import CampaignMessage
from tillit.errors import Conflict, InvalidInput

from .helpers import ACTOR, customer, definition, segment, views

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday, noon in London


def _create(sessions, **changes) -> None:
    with sessions() as session, session.begin():
        service.create_campaign(
            session=session, definition=parse_definition(definition(**changes)), actor=ACTOR
        )
        service.approve_campaign(
            session=session, key=changes.get("key", "spring-shoes"), actor=ACTOR
        )


def _messages(sessions) -> dict[int, CampaignMessage]:
    with sessions() as session:
        rows = session.scalars(select(CampaignMessage)).all()
        session.expunge_all()
    return {row.customer_id: row for row in rows}


def test_every_member_is_scheduled_or_held_for_one_reason(sessions, defaults, settings):
    people = {
        "anna": customer(sessions, defaults, name="Anna Berg", preferences={"topics": ["offers"]}),
        "bo": customer(sessions, defaults, name="Bo Lind", consent=False),
        "cai": customer(sessions, defaults, name="Cai Holm", preferences={"topics": ["news"]}),
        "dan": customer(sessions, defaults, name="Dan Ek"),  # chose nothing, did nothing
        "eva": customer(
            sessions,
            defaults,
            name="Eva Roth",
            locale="de-DE",
            zone="Europe/Berlin",
            preferences={"topics": ["offers"]},
        ),
        "fay": customer(  # quiet until 14:00 London time
            sessions,
            defaults,
            name="Fay Moss",
            preferences={"topics": ["offers"], "quiet_hours": {"start": "11:00", "end": "14:00"}},
        ),
        "gus": customer(sessions, defaults, name="Gus Dahl"),  # no topics, but looked a lot
    }
    views(sessions, people["gus"], "outdoor", 4, NOW)
    views(sessions, people["dan"], "kitchen", 5, NOW)  # behaviour unrelated to the campaign
    segment(sessions, list(people.values()))
    _create(sessions, schedule={"type": "once", "at": NOW.isoformat()})

    with sessions() as session, session.begin():
        report = service.plan_campaign(
            session=session, settings=settings, key="spring-shoes", actor=ACTOR, now=NOW
        )
    assert report.audience == 7
    assert report.held == {
        "no_consent": 1,
        "topic_not_chosen": 1,
        "not_relevant": 1,
        "no_content_in_language": 1,
    }
    assert report.scheduled == 3 and report.allowed == 5 and report.relevant == 4

    messages = _messages(sessions)
    assert messages[people["bo"]].reason == "no_consent"
    assert messages[people["cai"]].reason == "topic_not_chosen"
    assert messages[people["dan"]].reason == "not_relevant"
    assert messages[people["eva"]].reason == "no_content_in_language"
    anna, fay, gus = (messages[people[n]] for n in ("anna", "fay", "gus"))
    assert (anna.status, anna.channel, anna.language) == ("scheduled", "email", "en")
    assert anna.not_before == NOW
    assert fay.not_before == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # after her quiet hours
    assert anna.explanation["topics"] == ["offers"] and anna.explanation["signals"] == []
    assert gus.explanation["signals"] == [[0, 3]] or gus.explanation["signals"] == [[0, 4]]
    assert gus.score == pytest.approx(0.5)

    # Planned again: the same round is reported, nothing new written.
    with sessions() as session, session.begin():
        again = service.plan_campaign(
            session=session, settings=settings, key="spring-shoes", actor=ACTOR, now=NOW
        )
        funnel = service.funnel(
            session=session, campaign=service.get_campaign(session=session, key="spring-shoes")
        )
    assert again.already and again.held == report.held
    assert len(_messages(sessions)) == 7
    assert funnel.steps["audience"] == 7 and funnel.steps["scheduled"] == 3
    assert funnel.held == report.held


def test_the_campaigns_own_frequency_and_customer_caps_hold_later_rounds(
    sessions, defaults, settings
):
    # At most one e-mail a week, no SMS: the second campaign that week is held for her cap.
    nina = customer(
        sessions,
        defaults,
        name="Nina de Vries",
        locale="nl-NL",
        zone="Europe/Amsterdam",
        preferences={
            "topics": ["offers"],
            "channels": {"sms": False},
            "caps": {"email": {"count": 1, "period": "week"}},
        },
        phone=True,
    )
    segment(sessions, [nina])
    _create(sessions, key="weekly-tips", schedule={"type": "recurring", "every_days": 1})
    _create(sessions, key="winter-sale", schedule={"type": "once"})
    with sessions() as session, session.begin():
        first = service.plan_campaign(
            session=session, settings=settings, key="weekly-tips", actor=ACTOR, now=NOW
        )
    with sessions() as session, session.begin():
        second = service.plan_campaign(
            session=session,
            settings=settings,
            key="winter-sale",
            actor=ACTOR,
            now=NOW + timedelta(days=2),
        )
    with sessions() as session, session.begin():
        third = service.plan_campaign(
            session=session,
            settings=settings,
            key="weekly-tips",
            actor=ACTOR,
            now=NOW + timedelta(days=1),
        )
    assert first.scheduled == 1
    assert second.held == {"customer_cap": 1}  # the SMS is hers to refuse, the e-mail is capped
    assert third.held == {"campaign_frequency": 1} or third.held == {"customer_cap": 1}


def test_a_draft_is_not_planned_and_bad_definitions_name_their_field(sessions, settings):
    with pytest.raises(InvalidInput) as error:
        parse_definition(definition(content={"en": {"subject": "Hi {firstname}", "body": "x"}}))
    fields = {e.field for e in error.value.errors}
    assert "content.en.subject" in fields
    with pytest.raises(InvalidInput) as error:
        parse_definition(definition(content={"en": {"subject": "Hi", "body": "x"}}))
    assert [e.field for e in error.value.errors] == ["content"]
    assert (
        parse_definition(
            definition(
                content={"en": {"subject": "Hi", "body": "x"}},
                fallback_language="en",
                relevance={"enabled": False},
            )
        ).fallback_language
        == "en"
    )
    segment(sessions, [])
    with sessions() as session, session.begin():
        service.create_campaign(
            session=session, definition=parse_definition(definition()), actor=ACTOR
        )
    with sessions() as session, session.begin(), pytest.raises(Conflict):
        service.plan_campaign(session=session, settings=settings, key="spring-shoes", actor=ACTOR)
