"""Data quality: exact scores for each dimension on a small, known dataset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tillit.customers.models import Customer, Identity
from tillit.events.models import Event, Source
from tillit.quality import measure

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def dataset(sessions):
    with sessions() as session, session.begin():
        web = Source(name="web", write_key_hash="a" * 64, channel="web")
        store = Source(name="store", write_key_hash="b" * 64, channel="store")
        anna = Customer(
            name="Anna Berg",
            locale="da-DK",
            time_zone="Europe/Copenhagen",
            country="DK",
            traits={"birthday": "1980-05-01", "plan": "gold"},
            updated_at=ago(10),
        )
        bo = Customer(
            locale="da",
            time_zone="CET",
            status="suppressed",
            traits={"birthday": "1975", "address": "Nørregade 1, København"},
            updated_at=ago(400),
        )
        session.add_all([web, store, anna, bo])
        session.flush()
        session.add_all(
            [
                Identity(
                    customer_id=anna.id,
                    type="email",
                    value="anna@example.com",
                    source="source:web",
                    created_at=ago(10),
                ),
                Identity(
                    customer_id=anna.id,
                    type="phone",
                    value="+4520123456",
                    source="source:store",
                    created_at=ago(500),
                ),
                Identity(
                    customer_id=bo.id,
                    type="email",
                    value="bo@example.com",
                    source="source:store",
                    created_at=ago(10),
                ),
            ]
        )
        traits = {"email": "anna@example.com", "phone": "+45 20 12 34 56", "plan": "gold"}
        for n, (customer, user, body, days) in enumerate(
            [
                (anna.id, "u1", traits, 5),
                (bo.id, "u2", {"email": "not-an-email"}, 100),
                (None, None, None, 1),
            ]
        ):
            payload = {"type": "identify", **({"traits": body} if body else {})}
            session.add(
                Event(
                    source_id=web.id,
                    message_id=f"m{n}",
                    type="identify",
                    channel="web",
                    user_id=user,
                    anonymous_id=None if user else "a3",
                    customer_id=customer,
                    timestamp=ago(days),
                    received_at=ago(days),
                    payload=payload,
                )
            )


def scores(report, source: str, label: str) -> dict[str, float | None]:
    entry = next(s for s in report.sources if s.source == source)
    found = next(f for f in entry.fields if f.label == label)
    return {
        d: found.score(d)
        for d in (
            "correct",
            "complete",
            "current",
            "consistent",
            "usable",
            "precise",
            "structured",
            "relevant",
        )
    }


def test_each_dimension_on_a_known_dataset(sessions, dataset):
    with sessions() as session:
        report = measure(session=session, default_country="DK", now=NOW)
    assert scores(report, "web", "traits.email") == {
        "correct": 0.5,
        "complete": 2 / 3,
        "current": 1.0,
        "consistent": 0.0,
        "usable": 0.5,
        "precise": None,
        "structured": 0.5,
        "relevant": 1.0,
    }
    assert scores(report, "web", "traits.phone") == {
        "correct": 1.0,
        "complete": 1 / 3,
        "current": 1.0,
        "consistent": 1.0,
        "usable": 1.0,
        "precise": 0.0,
        "structured": 1.0,
        "relevant": 1.0,
    }
    assert scores(report, "web", "traits.plan") == {
        "correct": None,
        "complete": 1 / 3,
        "current": 1.0,
        "consistent": 1.0,
        "usable": 1.0,
        "precise": None,
        "structured": 1.0,
        "relevant": 1.0,
    }
    assert scores(report, "store", "identity.phone") == {
        "correct": 1.0,
        "complete": 0.5,
        "current": 0.0,
        "consistent": 1.0,
        "usable": 1.0,
        "precise": 1.0,
        "structured": 1.0,
        "relevant": 1.0,
    }
    assert scores(report, "store", "identity.email") == {
        "correct": 1.0,
        "complete": 0.5,
        "current": 1.0,
        "consistent": 0.0,
        "usable": 0.0,
        "precise": None,
        "structured": 1.0,
        "relevant": 1.0,
    }
    assert scores(report, "profile", "profile.locale") == {
        "correct": 1.0,
        "complete": 1.0,
        "current": 0.5,
        "consistent": None,
        "usable": 0.5,
        "precise": 0.5,
        "structured": 1.0,
        "relevant": 1.0,
    }
    assert scores(report, "profile", "profile.birthday") == {
        "correct": 1.0,
        "complete": 1.0,
        "current": 0.5,
        "consistent": None,
        "usable": 0.5,
        "precise": 0.5,
        "structured": 1.0,
        "relevant": 0.0,
    }
    assert scores(report, "profile", "profile.address")["structured"] == 0.0
    assert scores(report, "profile", "profile.name")["structured"] == 0.0
    assert scores(report, "profile", "profile.country")["complete"] == 0.5
    assert scores(report, "profile", "profile.time_zone")["precise"] == 0.5
    profile = next(s for s in report.sources if s.source == "profile")
    # address, birthday and name are read by nothing and absent from recent events.
    assert profile.score("relevant") == 4 / 7


def test_one_source_and_a_shorter_current_window(sessions, dataset):
    with sessions() as session:
        report = measure(
            session=session, default_country="DK", now=NOW, source="web", current_days=7
        )
    assert [s.source for s in report.sources] == ["web"]
    assert scores(report, "web", "traits.email")["current"] == 0.5
