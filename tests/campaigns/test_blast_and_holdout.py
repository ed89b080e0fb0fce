"""The blast slice and the hold-out, split by the experiments engine: the slice is planned with
the relevance gate off (still inside the policy), the hold-out is planned and never sent, and
the campaign compares goal conversion and unsubscribes of relevance against the blast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tillit.analytics.goal_store import define_goal
from tillit.campaigns import service
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.models import CampaignMessage
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.experiments.models import Exposure
from tillit.outbox import OutboxMessage

from .helpers import ACTOR, customer, definition, segment, views

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_slices_are_split_planned_and_compared(sessions, defaults, settings):
    people = []
    for index in range(60):
        chose = {"topics": ["offers"]} if index % 2 == 0 else {"topics": ["offers", "news"]}
        people.append(
            customer(
                sessions,
                defaults,
                name=f"Person {index}",
                preferences=chose if index % 3 else None,  # a third chose no topic
            )
        )
    segment(sessions, people)
    with sessions() as session, session.begin():
        define_goal(
            session=session, key="order", name="Order", event="Order Completed", actor=ACTOR
        )
        spec = definition(blast_share=0.4, holdout_share=0.2, goal="order")
        service.create_campaign(session=session, definition=parse_definition(spec), actor=ACTOR)
        campaign = service.approve_campaign(session=session, key="spring-shoes", actor=ACTOR)
        assert campaign.experiment_key == "campaign-spring-shoes"
    with sessions() as session, session.begin():
        report = service.plan_campaign(
            session=session, settings=settings, key="spring-shoes", actor=ACTOR, now=NOW
        )
    with sessions() as session:
        messages = session.scalars(select(CampaignMessage)).all()
        groups = {m.customer_id: m.group for m in messages}
        exposures = {e.customer_id: e.variant for e in session.scalars(select(Exposure))}
        queued = {m.customer_id for m in session.scalars(select(OutboxMessage))}
        by = {m.customer_id: m for m in messages}
    assert groups == exposures  # the experiment's assignment is the split, logged as served
    assert set(groups.values()) == {"relevant", "blast", "holdout"}
    for customer_id, group in groups.items():
        message = by[customer_id]
        if group == "holdout":  # planned as the relevance group would be, then kept back
            expected = "holdout" if message.score >= 0.5 else "not_relevant"
            assert message.reason == expected and customer_id not in queued
        elif group == "blast":  # no relevance gate: everyone the policy allows goes
            assert message.status == "scheduled" and customer_id in queued
        elif message.score < 0.5:
            assert message.reason == "not_relevant" and customer_id not in queued
        else:
            assert message.status == "scheduled" and customer_id in queued
    assert report.held["holdout"] == sum(
        g == "holdout" and by[c].score >= 0.5 for c, g in groups.items()
    )
    assert report.held["not_relevant"] >= 1

    # Relevant people order; two in the blast slice withdraw their consent after the message.
    relevant_group = [c for c, g in groups.items() if g == "relevant" and by[c].score >= 0.5]
    blast_group = [c for c, g in groups.items() if g == "blast"]
    for customer_id in relevant_group:
        views(sessions, customer_id, "shoes", 1, NOW + timedelta(days=2), name="Order Completed")
    with sessions() as session, session.begin():
        for customer_id in blast_group[:2]:
            record_consent(
                session=session,
                customer_id=customer_id,
                purpose_key="marketing",
                decision=ConsentDecision.withdrawn,
                method=Method.api,
                actor=ACTOR,
            )
    with sessions() as session:
        found = service.results(
            session=session, campaign=service.get_campaign(session=session, key="spring-shoes")
        )
        funnel = service.funnel(
            session=session, campaign=service.get_campaign(session=session, key="spring-shoes")
        )
    assert found is not None and found.conversion is not None and found.unsubscribes is not None
    assert found.groups["blast"] == len(blast_group)
    assert found.conversion.mean_variant > 0 and found.conversion.mean_control == 0
    assert found.unsubscribes.mean_control == 2 / len(blast_group)
    assert found.conversion.ci_low < found.conversion.difference < found.conversion.ci_high
    assert found.verdict.startswith("Relevance paid off")
    assert funnel.steps["goal_reached"] == len(relevant_group)
