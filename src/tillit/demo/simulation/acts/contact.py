"""Newsletters every six weeks, each on one topic to the people who care about it, planned through
the contact policy for the whole audience at once; every decision is logged (the customer
sees it), and the allowed ones are sent and counted toward the caps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from tillit.contact.log import log_decision, record_send
from tillit.contact.service import decide_audience, make_intent
from tillit.demo.simulation.population import TOPICS
from tillit.demo.simulation.world import World

EVERY_DAYS = 45.0


def act(world: World, progress: Callable[[int, int], None]) -> None:
    campaigns = int(world.clock.days // EVERY_DAYS)
    for number in range(campaigns):
        topic = TOPICS[number % len(TOPICS)]
        channel = "sms" if number % 3 == 2 else "email"
        at = world.clock.at((number + 0.5) * EVERY_DAYS, 9.5)
        audience = [
            customer_id
            for person, ids in world.everyone_with_profiles()
            if topic in person.topics
            for customer_id in ids
        ]
        with world.sessions() as session, session.begin():
            _campaign(world, session, audience, topic, channel, at)
        progress(number + 1, campaigns)


def _campaign(
    world: World, session: Session, audience: list[int], topic: str, channel: str, at: datetime
) -> None:
    intent = make_intent(purpose="marketing", kind="marketing", channel=channel, topic=topic, at=at)
    decided = list(
        decide_audience(
            session=session, customer_ids=audience, intent=intent, settings=world.settings
        )
    )
    for row in decided:
        defer = row["defer_until"]
        logged = log_decision(
            session=session,
            customer_id=row["customer_id"],
            channel=channel,
            kind="marketing",
            outcome=row["outcome"],
            reasons=[row["reason"]] if row["reason"] else [],
            purpose_key="marketing",
            topic=topic,
            defer_until=datetime.fromisoformat(defer) if defer else None,
            decided_at=at,
        )
        world.counts[f"decisions {row['outcome']}"] += 1
        if row["outcome"] == "allowed":
            record_send(
                session=session,
                customer_id=row["customer_id"],
                channel=channel,
                kind="marketing",
                topic=topic,
                decision_id=logged.id,
                sent_at=at,
            )
            world.counts["sends"] += 1
        elif row["reason"]:
            world.counts[f"held: {row['reason']}"] += 1
