"""Fatigue rules, selection, triggers, relationship answers and cases on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.consent.preferences import update_preferences
from tillit.contact.log import record_send
from tillit.contact.models import DIALOGUE_PURPOSE
from tillit.contact.service import decide_for
from tillit.dialogues import (
    asks,
    cases,
    catalogue,
    delivery,
    in_place,
    metrics,
    profiling,
    scheduling,
)
from tillit.dialogues.models import Ask, AskStatus, Case
from tillit.dialogues.responses import Answer, submit

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_relationship_answer_changes_contact_decisions_at_once(sessions, settings, make_customer):
    customer = make_customer(email="freja@example.com")
    with sessions() as session:
        update_preferences(
            session=session,
            customer_id=customer,
            changes={"caps": {}},
            method="form",
            actor=Actor.system("t"),
        )
        before = decide_for(
            session=session,
            customer_id=customer,
            purpose=DIALOGUE_PURPOSE,
            kind="dialogue",
            channel="email",
            topic=None,
            settings=settings,
        )
        assert before.decision.outcome.value == "allowed"
        session.commit()
    with sessions() as session:
        question = catalogue.get_question(session=session, key="rel_frequency")
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=customer,
            question=question,
            channel="web",
            trigger="test",
            reason="t",
        )
        assert issued is not None
        submit(
            session=session, settings=settings, ask=issued.ask, answer=Answer(choices=("month_1",))
        )  # "e-mail at most once a month"
        session.commit()
    with sessions() as session:
        record_send(
            session=session,
            customer_id=customer,
            channel="email",
            kind="dialogue",
            sent_at=datetime.now(UTC) - timedelta(days=3),
        )
        after = decide_for(
            session=session,
            customer_id=customer,
            purpose=DIALOGUE_PURPOSE,
            kind="dialogue",
            channel="email",
            topic=None,
            settings=settings,
        )
    assert after.decision.outcome.value == "deferred"
    assert after.decision.reason == "customer_cap"


def test_cooldown_declined_and_expired_asks(sessions, settings, make_customer):
    customer = make_customer(email="olle@example.com")
    with sessions() as session:
        first = profiling.next_question(
            session=session, settings=settings, customer_id=customer, channel="widget", now=NOW
        )
        assert first is not None and first.ask.reason.startswith("asked because")
        # Nothing else within the cool-down, on any channel.
        assert (
            profiling.next_question(
                session=session,
                settings=settings,
                customer_id=customer,
                channel="api",
                now=NOW + timedelta(days=13),
            )
            is None
        )
        asks.decline(session=session, ask=first.ask, now=NOW)
        declined_question = first.ask.question_id
        later = NOW + timedelta(days=15)
        second = profiling.next_question(
            session=session, settings=settings, customer_id=customer, channel="api", now=later
        )
        assert second is not None and second.ask.question_id != declined_question
        # It expires unanswered, and still counts for the cool-down.
        assert asks.expire_overdue(session=session, now=later + timedelta(days=15)) == 1
        assert (
            profiling.next_question(
                session=session,
                settings=settings,
                customer_id=customer,
                channel="api",
                now=later + timedelta(days=10),
            )
            is None
        )
        third = profiling.next_question(
            session=session,
            settings=settings,
            customer_id=customer,
            channel="api",
            now=later + timedelta(days=31),
        )
        assert third is not None and third.ask.question_id != declined_question


def test_dialogues_off_or_no_consent_means_no_questions(sessions, settings, make_customer):
    off = make_customer(email="off@example.com")
    unconsented = make_customer(email="nej@example.com", research=False)
    with sessions() as session:
        update_preferences(
            session=session,
            customer_id=off,
            changes={"dialogues": False},
            method="form",
            actor=Actor.system("t"),
        )
        for customer in (off, unconsented):
            assert (
                profiling.next_question(
                    session=session, settings=settings, customer_id=customer, channel="web", now=NOW
                )
                is None
            )


def test_selection_spreads_over_questions(sessions, settings, make_customer):
    seen = set()
    customers = [make_customer(email=f"kund{n}@example.com") for n in range(12)]
    with sessions() as session:
        for customer in customers:
            issued = profiling.next_question(
                session=session, settings=settings, customer_id=customer, channel="web", now=NOW
            )
            assert issued is not None
            seen.add(issued.ask.question_id)
    assert len(seen) >= 3  # seeded noise keeps the top-priority question from crowding out


def test_event_trigger_schedules_and_delivery_goes_through_the_policy(
    sessions, settings, make_customer
):
    customer = make_customer(email="order@example.com")
    sent = []
    with sessions() as session:
        planned = scheduling.on_event(session, customer, "Order Completed", NOW)
        assert [a.due_at for a in planned] == [NOW + timedelta(hours=48)]
        assert (
            delivery.deliver_due(
                session=session, settings=settings, now=NOW, send=lambda a, t: sent.append(t)
            )["sent"]
            == 0
        )
        counts = delivery.deliver_due(
            session=session,
            settings=settings,
            now=NOW + timedelta(hours=49),
            send=lambda a, t: sent.append(t),
        )
        assert counts["sent"] + counts["deferred"] == 1
        ask = session.scalar(select(Ask))
        assert ask is not None and ask.decision_id is not None
        # A second trigger inside the cool-down is held, never sent.
        scheduling.on_event(session, customer, "Ticket Closed", NOW + timedelta(days=3))
        counts = delivery.deliver_due(
            session=session,
            settings=settings,
            now=NOW + timedelta(days=4),
            send=lambda a, t: sent.append(t),
        )
        assert counts["held"] == 1 or ask.status == AskStatus.scheduled


def test_low_nps_opens_case_escalates_and_recovery_is_exempt(sessions, settings, make_customer):
    customer = make_customer(email="ingrid@example.com")
    with sessions() as session:
        question = catalogue.get_question(session=session, key="nps_relationship")
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=customer,
            question=question,
            channel="web",
            trigger="t",
            reason="t",
            now=NOW,
        )
        assert issued is not None
        submit(
            session=session,
            settings=settings,
            ask=issued.ask,
            answer=Answer(score=3, follow_up="Leveransen var sen"),
            now=NOW,
        )
        case = session.scalar(select(Case))
        assert case is not None and case.priority == "high" and case.rule == "nps<=6"
        assert case.first_response_due == NOW + timedelta(hours=12)
        assert [c.id for c in cases.escalate_overdue(session, NOW + timedelta(hours=13))] == [
            case.id
        ]
        assert cases.escalate_overdue(session, NOW + timedelta(hours=14)) == []
        cases.resolve(
            session=session,
            settings=settings,
            case_id=case.id,
            actor=Actor.system("agent"),
            now=NOW + timedelta(hours=20),
        )
        recovery = session.get(Ask, case.recovery_ask_id)
        assert recovery is not None and recovery.exempt and recovery.status == "pending"
        rows = metrics.compute(session=session, dimension="language")
        assert rows[0].group == "sv" and rows[0].nps == -100.0


def test_nps_interval_is_wald_on_the_coding():
    nps, low, high = metrics.nps_interval([10] * 50 + [8] * 30 + [3] * 20)
    assert round(nps) == 30
    assert 12 < low < 30 < high < 48  # SE = sqrt((.5 + .2 - .09) / 100) = 0.078


def test_question_edit_makes_a_new_version(sessions):
    with sessions() as session:
        question = catalogue.get_question(session=session, key="csat_order")
        old = catalogue.current_version(session=session, question=question)
        texts = {**old.texts, "en": "How happy are you with your order?"}
        version = catalogue.edit_question(
            session=session,
            key="csat_order",
            actor=Actor.system("t"),
            settings={},
            wording=catalogue.Wording(texts, old.follow_up, old.options),
        )
        assert version.version == 2 and question.current_version == 2


def test_why_a_case_was_opened_reads_as_words():
    from tillit.dialogues.cases import rule_words

    assert rule_words("nps<=6") == "NPS score of 6 or less"
    assert rule_words("csat<=2") == "CSAT score of 2 or less"
    assert rule_words("word:refund") == "The comment mentions “refund”"
    assert rule_words("never") == "Answered “never”, with a comment"
