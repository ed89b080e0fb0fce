"""Builders for campaign tests: customers with consents, preferences and behaviour, a segment
holding them, and a campaign definition."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from tillit.analytics.models import SegmentMember
from tillit.analytics.segment_store import get_segment, save_segment
from tillit.audit.service import Actor
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.events.models import Event
from tillit.events.sources import create_source
from tillit.i18n import LANGUAGES
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

ACTOR = Actor.system("tests")
COUNTER = itertools.count()
SUBJECTS = {
    "en": "Hello {first_name}, new running shoes",
    "da": "Hej {first_name}, nye løbesko",
    "sv": "Hej {first_name}, nya löparskor",
    "nb": "Hei {first_name}, nye joggesko",
    "nl": "Hallo {first_name}, nieuwe hardloopschoenen",
}
LABELS = {
    "en": "looked at running shoes",
    "da": "så på løbesko",
    "sv": "tittade på löparskor",
    "nb": "så på joggesko",
    "nl": "bekeek hardloopschoenen",
}


def definition(key: str = "spring-shoes", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": key,
        "name": "Spring running shoes",
        "purpose": "marketing",
        "kind": "marketing",
        "topics": ["offers"],
        "segment": "everyone",
        "channel": "preferred",
        "channels": ["email", "sms"],
        "content": {
            lang: {"subject": SUBJECTS[lang], "body": f"{SUBJECTS[lang]} ({lang})"}
            for lang in LANGUAGES
        },
        "relevance": {
            "min_score": 0.5,
            "topic_weight": 0.5,
            "window_days": 7,
            "signals": [
                {
                    "topic": "offers",
                    "event": "Product Viewed",
                    "property": "category",
                    "value": "outdoor",
                    "weight": 0.5,
                    "saturation": 3,
                    "label": LABELS,
                }
            ],
        },
        "min_days_between": 7,
    }
    base.update(changes)
    return base


def customer(
    sessions: SessionFactory,
    defaults: Defaults,
    *,
    name: str,
    locale: str = "en-GB",
    zone: str = "Europe/London",
    consent: bool = True,
    preferences: dict[str, Any] | None = None,
    phone: bool = False,
) -> int:
    number = next(COUNTER)
    identities = [IdentityCreate(type="email", value=f"person{number}@example.com")]
    if phone:
        identities.append(IdentityCreate(type="phone", value=f"+31 6 12{number:06d}"))
    with sessions() as session, session.begin():
        data = CustomerCreate(name=name, locale=locale, time_zone=zone, identities=identities)
        customer_id = create_customer(session=session, data=data, defaults=defaults, actor=ACTOR).id
        if consent:
            record_consent(
                session=session,
                customer_id=customer_id,
                purpose_key="marketing",
                decision=ConsentDecision.granted,
                method=Method.api,
                actor=ACTOR,
            )
        if preferences:
            update_preferences(
                session=session,
                customer_id=customer_id,
                changes=preferences,
                method="api",
                actor=ACTOR,
            )
    return customer_id


def segment(sessions: SessionFactory, ids: list[int], key: str = "everyone") -> None:
    """A segment holding exactly ``ids`` (its membership written as a refresh would)."""
    with sessions() as session, session.begin():
        save_segment(
            session=session,
            key=key,
            name="Everyone",
            purpose="marketing",
            definition={"kind": "consent", "purpose": "marketing"},
            actor=ACTOR,
        )
        found = get_segment(session, key)
        session.add_all(SegmentMember(segment_id=found.id, customer_id=i) for i in ids)


def views(
    sessions: SessionFactory,
    customer_id: int,
    category: str,
    count: int,
    at: datetime,
    *,
    name: str = "Product Viewed",
    properties: dict[str, Any] | None = None,
) -> None:
    """``count`` tracked events (product views in ``category`` unless ``name`` and
    ``properties`` say otherwise), an hour apart before ``at``."""
    properties = {"category": category} if properties is None else properties
    with sessions() as session, session.begin():
        source, _ = create_source(
            session=session,
            name=f"shop {next(COUNTER)}",
            channel=SourceChannel.web,
            actor=ACTOR,
        )
        for index in range(count):
            when = at - timedelta(hours=index + 1)
            session.add(
                Event(
                    source_id=source.id,
                    message_id=f"m-{customer_id}-{category}-{index}-{next(COUNTER)}",
                    type="track",
                    name=name,
                    channel=SourceChannel.web,
                    customer_id=customer_id,
                    timestamp=when,
                    received_at=when,
                    payload={"event": name, "properties": properties},
                )
            )
