"""Goals of every kind (event, consent granted, question answered, sign-up) and their
breakdowns by language, country, segment and week: the same answers on DuckDB and Spark."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend

from tests.analytics.conftest import parquet_only
from tillit.analytics.goals import EventGoal, GoalError, by_breakdown, by_channel
from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.analytics.tables import Model
from tillit.events.lake import SCHEMA, lake_root

pytestmark = parquet_only

ANNA, BO, CARL = 1, 2, 3


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)  # 5 and 12 January 2026 are Mondays


EVENTS = [
    (1, ANNA, "Page Viewed", "web", _at(10, 10), {}),
    (2, BO, "Page Viewed", "email", _at(10, 11), {}),
    (3, CARL, "Page Viewed", "sms", _at(12, 9), {}),
    (4, ANNA, "Order Completed", "web", _at(11, 8), {"revenue": 30}),
]


def _snapshot(data_dir: Path, name: str, rows: list[dict]) -> None:
    path = snapshot_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=BY_NAME[name].schema), path)


def _customer(customer_id: int, locale: str, country: str, created: datetime) -> dict:
    return {
        "customer_id": customer_id,
        "language": locale.split("-")[0],
        "locale": locale,
        "country": country,
        "time_zone": "Europe/Copenhagen",
        "status": "active",
        "traits": "{}",
        "created_at": created,
        "updated_at": created,
    }


def _consent(consent_id: int, customer: int, sequence: int, decision: str, at: datetime) -> dict:
    return {
        "consent_id": consent_id,
        "customer_id": customer,
        "sequence": sequence,
        "purpose_key": "marketing",
        "decision": decision,
        "method": "form",
        "channel": None,
        "notice_version": 1,
        "recorded_at": at,
    }


def _answer(response_id: int, customer: int, question: str, at: datetime) -> dict:
    return {
        "response_id": response_id,
        "customer_id": customer,
        "ask_id": response_id,
        "question_key": question,
        "question_type": "nps",
        "score": 9,
        "choices": "[]",
        "channel": "email",
        "language": "da",
        "answered_at": at,
    }


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("goal-kinds")
    for event_id, customer, name, channel, when, properties in EVENTS:
        folder = lake_root(data_dir) / f"date={when.date().isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        row = {
            "id": event_id,
            "source_id": 1,
            "message_id": f"m{event_id}",
            "type": "track",
            "name": name,
            "channel": channel,
            "anonymous_id": None,
            "user_id": f"u{customer}",
            "customer_id": customer,
            "timestamp": when,
            "received_at": when,
            "payload": orjson.dumps({"properties": properties}).decode(),
        }
        pq.write_table(
            pa.Table.from_pylist([row], schema=SCHEMA), folder / f"part-{event_id}.parquet"
        )
    _snapshot(
        data_dir,
        "customers",
        [
            _customer(ANNA, "da-DK", "DK", _at(10, 12)),
            _customer(BO, "sv-SE", "SE", _at(10, 12)),
            _customer(CARL, "da-DK", "DK", _at(20, 12)),  # 8 days after his meeting
        ],
    )
    _snapshot(
        data_dir,
        "consents",
        [
            _consent(1, ANNA, 1, "granted", _at(10, 13)),  # 3 hours after her web visit
            _consent(2, ANNA, 2, "granted", _at(11, 13)),  # again: only the first counts
            _consent(3, BO, 1, "denied", _at(10, 13)),
            _consent(4, CARL, 1, "granted", _at(25, 9)),  # after the 7-day window
        ],
    )
    _snapshot(
        data_dir,
        "answers",
        [_answer(1, BO, "nps", _at(10, 12)), _answer(2, CARL, "delivery", _at(13, 9))],
    )
    _snapshot(data_dir, "person_map", [])
    return data_dir


def _channels(backend: BaseBackend, lake: Path, goal: EventGoal) -> dict[str, tuple]:
    return {
        r.channel: (r.people_met, r.people_converted, r.first_touch)
        for r in by_channel(Model(backend, lake), goal)
    }


def test_a_consent_granted_is_a_goal_reached_once_per_person(backend: BaseBackend, lake: Path):
    goal = EventGoal("leads", "", kind="consent", purpose="marketing")
    # The order on the web is a meeting too, but after the grant; Carl granted too late.
    assert _channels(backend, lake, goal) == {
        "web": (1, 1, 1.0),
        "email": (1, 0, 0.0),
        "sms": (1, 0, 0.0),
    }


def test_an_answered_question_is_a_goal(backend: BaseBackend, lake: Path):
    nps = EventGoal("nps", "", kind="answer", question="nps")
    assert _channels(backend, lake, nps)["email"] == (1, 1, 1.0)
    assert _channels(backend, lake, nps)["sms"] == (1, 0, 0.0)
    any_answer = EventGoal("answers", "", kind="answer")
    assert _channels(backend, lake, any_answer)["sms"] == (1, 1, 1.0)


def test_a_sign_up_is_a_goal(backend: BaseBackend, lake: Path):
    signup = EventGoal("signup", "", kind="signup")
    assert _channels(backend, lake, signup) == {
        "web": (1, 1, 1.0),
        "email": (1, 1, 1.0),
        "sms": (1, 0, 0.0),  # Carl signed up 8 days after, outside the window
    }


def test_breakdowns_by_language_country_segment_and_week(backend: BaseBackend, lake: Path):
    model = Model(backend, lake)
    answers = EventGoal("answers", "", kind="answer")

    def rows(by: str, **extra) -> dict[str, tuple]:
        found = by_breakdown(model, answers, by, **extra)
        return {r.group: (r.people_met, r.people_converted, r.conversions) for r in found}

    assert rows("language") == {"da": (2, 1, 1), "sv": (1, 1, 1)}
    assert rows("country") == {"DK": (2, 1, 1), "SE": (1, 1, 1)}
    segments = {"nordic": [ANNA, BO], "late": [CARL], "nobody": []}
    assert rows("segment", segments=segments) == {"late": (1, 1, 1), "nordic": (2, 1, 1)}
    # Met in the week of 5 January: Anna and Bo (Bo answered); of 12 January: Carl (answered).
    assert rows("week") == {
        date(2026, 1, 5).isoformat(): (2, 1, 1),
        date(2026, 1, 12).isoformat(): (1, 1, 1),
    }
    orders = EventGoal("orders", "Order Completed", value_property="revenue")
    danish = {r.group: r for r in by_breakdown(model, orders, "language")}["da"]
    assert (danish.people_met, danish.people_converted, danish.value) == (2, 1, 30.0)
    assert 0.0 < danish.rate_low < danish.rate == 0.5 < danish.rate_high < 1.0


def test_unknown_kinds_and_breakdowns_are_refused(backend: BaseBackend, lake: Path):
    model = Model(backend, lake)
    with pytest.raises(GoalError, match="kind"):
        by_channel(model, EventGoal("x", "", kind="dream"))
    with pytest.raises(GoalError, match="breakdown"):
        by_breakdown(model, EventGoal("x", "A"), "zodiac")
