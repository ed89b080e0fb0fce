"""Three campaigns over the year, planned through the campaigns' own planner, so the demo shows
funnels with hold-backs of several reasons (no consent, channels, topics, the customer's own
limit, not relevant, the hold-out) and a relevance-against-blast comparison. The audience is a
segment of everyone the product knows; its membership is written as the segments' refresh
would. Scheduled messages wait in the outbox, which sends them when an SMTP server is set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tillit.analytics.goal_store import define_goal
from tillit.analytics.models import Goal, SegmentMember
from tillit.analytics.segment_store import get_segment, save_segment
from tillit.campaigns import service
from tillit.campaigns.definitions import parse_definition
from tillit.customers.models import Customer
from tillit.demo.simulation.world import ACTOR, World
from tillit.i18n import LANGUAGES

SEGMENT = "demo-everyone"
LOOKED = {
    "outdoor": {
        "en": "looked at outdoor gear",
        "da": "så på friluftsudstyr",
        "sv": "tittade på friluftsutrustning",
        "nb": "så på friluftsutstyr",
        "nl": "bekeek outdoorspullen",
    },
    "kitchen": {
        "en": "looked at kitchen things",
        "da": "så på køkkenting",
        "sv": "tittade på köksprylar",
        "nb": "så på kjøkkenting",
        "nl": "bekeek keukenspullen",
    },
}
SUBJECTS = {
    "outdoor": {
        "en": "{first_name}, autumn walks start here",
        "da": "{first_name}, efterårets gåture starter her",
        "sv": "{first_name}, höstens promenader börjar här",
        "nb": "{first_name}, høstens turer starter her",
        "nl": "{first_name}, herfstwandelingen beginnen hier",
    },
    "kitchen": {
        "en": "{first_name}, new in the kitchen",
        "da": "{first_name}, nyt i køkkenet",
        "sv": "{first_name}, nytt i köket",
        "nb": "{first_name}, nytt på kjøkkenet",
        "nl": "{first_name}, nieuw in de keuken",
    },
}
# (key, name, topic, category, day of the year as a share, blast, hold-out)
CAMPAIGNS = (
    ("autumn-outdoor", "Autumn outdoor offers", "offers", "outdoor", 0.7, 0.2, 0.1),
    ("kitchen-news", "Kitchen news", "news", "kitchen", 0.72, 0.0, 0.0),
    ("winter-outdoor", "Winter outdoor offers", "offers", "outdoor", 0.95, 0.2, 0.1),
)


def campaign_definition(
    key: str, name: str, topic: str, category: str, blast: float, hold: float
) -> Any:
    return parse_definition(
        {
            "key": key,
            "name": name,
            "purpose": "marketing",
            "kind": "marketing",
            "topics": [topic],
            "segment": SEGMENT,
            "channel": "preferred",
            "channels": ["email", "sms"],
            "content": {
                lang: {
                    "subject": SUBJECTS[category][lang],
                    "body": SUBJECTS[category][lang] + "\n\n{why_url}",
                }
                for lang in LANGUAGES
            },
            "relevance": {
                "min_score": 0.5,
                "topic_weight": 0.5,
                "window_days": 30,
                "signals": [
                    {
                        "topic": topic,
                        "event": "Product Viewed",
                        "property": "category",
                        "value": category,
                        "weight": 0.5,
                        "saturation": 2,
                        "label": LOOKED[category],
                    }
                ],
            },
            "blast_share": blast,
            "holdout_share": hold,
            "goal": "demo-order",
        }
    )


def act(world: World, progress: Callable[[int, int], None]) -> None:
    with world.sessions() as session, session.begin():
        if session.scalar(select(Goal.id).where(Goal.key == "demo-order")) is None:
            define_goal(
                session=session,
                key="demo-order",
                name="Order",
                event="Order Completed",
                actor=ACTOR,
            )
        save_segment(
            session=session,
            key=SEGMENT,
            name="Everyone who consented to marketing",
            purpose="marketing",
            definition={"kind": "consent", "purpose": "marketing"},
            actor=ACTOR,
        )
        segment = get_segment(session, SEGMENT)
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
        session.add_all(SegmentMember(segment_id=segment.id, customer_id=i) for i in ids)
        for key, name, topic, category, _, blast, hold in CAMPAIGNS:
            spec = campaign_definition(key, name, topic, category, blast, hold)
            service.create_campaign(session=session, definition=spec, actor=ACTOR)
            service.approve_campaign(session=session, key=key, actor=ACTOR)
    for number, (key, _, _, _, share, _, _) in enumerate(CAMPAIGNS):
        day = share * world.clock.days
        with world.sessions() as session, session.begin():
            report = service.plan_campaign(
                session=session,
                settings=world.settings,
                key=key,
                actor=ACTOR,
                now=world.clock.at(day, 10.0),
            )
        world.counts["campaign messages scheduled"] += report.scheduled
        world.counts["campaign messages held"] += sum(report.held.values())
        progress(number + 1, len(CAMPAIGNS))
