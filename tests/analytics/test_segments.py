"""Segment rules compiled to one Ibis expression: the same members on DuckDB and on Spark.

The lake and the snapshots are written here with pyarrow in the jobs process's own layouts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend
from pydantic import ValidationError

from tests.analytics.conftest import parquet_only
from tillit.analytics.goals import EventGoal
from tillit.analytics.segments import Compiler, UnknownReference, parse_rule
from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.analytics.tables import Model
from tillit.events.lake import SCHEMA, lake_root

pytestmark = parquet_only

NOW = datetime(2026, 3, 1, tzinfo=UTC)
IDA, OLA, TWIN, SIV = 1, 2, 3, 4  # TWIN was merged into IDA


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


EVENTS = [
    (1, IDA, "Order Completed", _at(1, 10), {"revenue": 10}),
    (2, TWIN, "Order Completed", _at(2, 10), {"revenue": 20}),  # Ida's, through the merge
    (3, OLA, "Order Completed", _at(2, 11), {"revenue": 5}),
    (4, OLA, "Order Completed", _at(1, 1).replace(year=2025), {"revenue": 5}),  # long ago
    (5, SIV, "Page Viewed", _at(2, 20), {}),
]


def write_lake(data_dir: Path) -> None:
    rows = [
        {
            "id": i,
            "source_id": 1,
            "message_id": f"m{i}",
            "type": "track",
            "name": name,
            "channel": "web",
            "anonymous_id": None,
            "user_id": None,
            "customer_id": who,
            "timestamp": when,
            "received_at": when,
            "payload": orjson.dumps({"properties": props}).decode(),
        }
        for i, who, name, when, props in EVENTS
    ]
    folder = lake_root(data_dir) / "date=2026-01-01"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), folder / "part-1.parquet")


def snapshot(data_dir: Path, name: str, rows: list[dict]) -> None:
    path = snapshot_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=BY_NAME[name].schema), path)


def person(customer_id: int, locale: str, country: str, traits: dict) -> dict:
    return {
        "customer_id": customer_id,
        "language": locale.split("-")[0],
        "locale": locale,
        "country": country,
        "time_zone": "UTC",
        "status": "active",
        "traits": orjson.dumps(traits).decode(),
        "created_at": _at(1, 1),
        "updated_at": _at(1, 1),
    }


def write_model(data_dir: Path) -> None:
    write_lake(data_dir)
    snapshot(
        data_dir,
        "customers",
        [
            person(IDA, "da-DK", "DK", {"plan": "gold", "age": 40}),
            person(OLA, "nb-NO", "NO", {"plan": "basic"}),
            person(TWIN, "da-DK", "DK", {}),
            person(SIV, "sv-SE", "SE", {}),
        ],
    )
    snapshot(data_dir, "person_map", [{"customer_id": TWIN, "person_id": IDA}])
    snapshot(
        data_dir,
        "identities",
        [
            {
                "identity_id": 1,
                "customer_id": TWIN,
                "type": "phone",
                "verified": True,
                "source": "api",
                "created_at": _at(1, 1),
            },
            {
                "identity_id": 2,
                "customer_id": OLA,
                "type": "email",
                "verified": False,
                "source": "api",
                "created_at": _at(1, 1),
            },
        ],
    )
    consent = [
        (1, IDA, 1, "marketing", "granted"),
        (2, OLA, 1, "marketing", "granted"),
        (3, OLA, 2, "marketing", "withdrawn"),
        (4, SIV, 1, "marketing", "granted"),
    ]
    snapshot(
        data_dir,
        "consents",
        [
            {
                "consent_id": c,
                "customer_id": who,
                "sequence": s,
                "purpose_key": p,
                "decision": d,
                "method": "api",
                "channel": None,
                "notice_version": 1,
                "recorded_at": _at(1, s),
            }
            for c, who, s, p, d in consent
        ],
    )
    snapshot(
        data_dir,
        "preferences",
        [
            {
                "customer_id": OLA,
                "version": 1,
                "document": '{"channels":{"email":true,"sms":true},"topics":["news"]}',
                "changed": "[]",
                "method": "api",
                "recorded_at": _at(1, 1),
            },
            {
                "customer_id": OLA,
                "version": 2,
                "document": '{"channels":{"email":false,"sms":true},"topics":["offers","news"]}',
                "changed": "[]",
                "method": "api",
                "recorded_at": _at(1, 2),
            },
            {
                "customer_id": SIV,
                "version": 1,
                "document": '{"channels":{"email":true},"topics":["offers"]}',
                "changed": "[]",
                "method": "api",
                "recorded_at": _at(1, 1),
            },
        ],
    )
    answers = [
        (1, IDA, 3, _at(1, 5)),
        (2, IDA, 10, _at(2, 5)),
        (3, OLA, 7, _at(2, 5)),
        (4, SIV, 9, _at(4, 5)),
    ]  # Siv's answer is after NOW
    snapshot(
        data_dir,
        "answers",
        [
            {
                "response_id": r,
                "customer_id": who,
                "ask_id": r,
                "question_key": "nps",
                "question_type": "nps",
                "score": s,
                "choices": "[]",
                "channel": "email",
                "language": "da",
                "answered_at": when,
            }
            for r, who, s, when in answers
        ],
    )
    snapshot(
        data_dir,
        "comment_themes",
        [
            {
                "feedback_id": 1,
                "customer_id": OLA,
                "source": "survey",
                "channel": "email",
                "language": "nb",
                "sentiment_label": "negative",
                "sentiment_score": -0.5,
                "nps": 7,
                "csat": None,
                "theme_key": "delivery",
                "theme_label": "Delivery",
                "theme_similarity": 0.9,
                "created_at": _at(2, 1),
            },
        ],
    )


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("segments")
    write_model(data_dir)
    return data_dir


GOALS = {"buyer": EventGoal("buyer", "Order Completed", filters={"revenue": "20"})}
SAVED = {"nordic": {"kind": "country", "countries": ["NO", "SE"]}}


def members(backend: BaseBackend, lake: Path, rule: dict) -> list[int]:
    def lookup(key: str) -> object:
        return parse_rule(SAVED[key])

    compiler = Compiler(Model(backend, lake), now=NOW, goals=GOALS, segments=lookup)
    table = compiler.members(parse_rule(rule))
    return sorted(table.person_id.to_pyarrow().to_pylist())


CASES = [
    ({"kind": "trait", "name": "plan", "equals": "gold"}, [IDA]),
    ({"kind": "trait", "name": "age", "equals": "40"}, [IDA]),
    ({"kind": "trait", "name": "plan"}, [IDA, OLA]),
    ({"kind": "identity", "type": "phone"}, [IDA]),  # the twin's phone is Ida's
    ({"kind": "identity", "type": "email", "verified": True}, []),
    ({"kind": "events", "event": "Order Completed", "at_least": 2, "within_days": 90}, [IDA]),
    ({"kind": "events", "event": "Order Completed", "at_least": 2}, [IDA, OLA]),
    ({"kind": "events", "event": "Order Completed", "at_most": 1, "within_days": 90}, [OLA]),
    ({"kind": "goal", "goal": "buyer", "within_days": 30}, [IDA]),
    ({"kind": "consent", "purpose": "marketing"}, [IDA, SIV]),  # Ola withdrew
    ({"kind": "channel_allowed", "channel": "email"}, [IDA, SIV]),  # Ola's latest: off
    ({"kind": "topic_chosen", "topic": "offers"}, [IDA, OLA, SIV]),  # Ida chose nothing: all
    ({"kind": "topic_chosen", "topic": "news"}, [IDA, OLA]),
    ({"kind": "nps_group", "group": "promoter"}, [IDA]),  # her latest, not her first
    ({"kind": "nps_group", "group": "passive"}, [OLA]),
    ({"kind": "theme", "theme": "delivery"}, [OLA]),
    ({"kind": "language", "languages": ["da", "sv"]}, [IDA, SIV]),
    ({"kind": "segment", "segment": "nordic"}, [OLA, SIV]),
    (
        {
            "kind": "all",
            "rules": [
                {"kind": "segment", "segment": "nordic"},
                {"kind": "not", "rule": {"kind": "theme", "theme": "delivery"}},
            ],
        },
        [SIV],
    ),
    (
        {
            "kind": "any",
            "rules": [
                {"kind": "country", "countries": ["DK"]},
                {"kind": "nps_group", "group": "passive"},
            ],
        },
        [IDA, OLA],
    ),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_each_rule_on_duckdb(rule: dict, expected: list[int], lake: Path) -> None:
    from tillit.analytics.engine import connect
    from tillit.config import load_settings

    backend = connect(load_settings(env="test", data_dir=lake), "duckdb")
    assert members(backend, lake, rule) == expected


def test_every_rule_gives_the_same_members_on_spark(backend: BaseBackend, lake: Path) -> None:
    """One expression combining every kind of leaf, on both engines (the ``backend`` fixture
    runs it on DuckDB and on Spark)."""
    combined = {
        "kind": "any",
        "rules": [
            {"kind": "all", "rules": [rule, {"kind": "language", "languages": ["da", "nb", "sv"]}]}
            for rule, _ in CASES
        ],
    }
    assert members(backend, lake, combined) == [IDA, OLA, SIV]
    # A few single leaves whose expressions differ most between the engines (JSON, the latest
    # row per person, windows); every leaf alone on Spark took minutes on two cores.
    for index in (1, 6, 10, 12, 13):
        rule, expected = CASES[index]
        assert members(backend, lake, rule) == expected, rule


def test_validation_names_the_place_of_the_error() -> None:
    with pytest.raises(ValidationError) as error:
        parse_rule(
            {
                "kind": "all",
                "rules": [
                    {"kind": "country", "countries": ["DK"]},
                    {"kind": "events", "event": "Order Completed", "at_least": 0},
                ],
            }
        )
    assert [e["loc"] for e in error.value.errors()] == [("all", "rules", 1, "events", "at_least")]
    with pytest.raises(ValidationError):
        parse_rule({"kind": "nope"})
    with pytest.raises(ValidationError):
        parse_rule({"kind": "country", "countries": ["dk"]})


def test_unknown_and_circular_references_are_refused(lake: Path) -> None:
    from tillit.analytics.engine import connect
    from tillit.config import load_settings

    backend = connect(load_settings(env="test", data_dir=lake), "duckdb")
    saved = {
        "a": parse_rule({"kind": "segment", "segment": "b"}),
        "b": parse_rule({"kind": "not", "rule": {"kind": "segment", "segment": "a"}}),
    }
    compiler = Compiler(Model(backend, lake), now=NOW, goals={}, segments=saved.__getitem__)
    with pytest.raises(UnknownReference, match="circle: a -> b -> a"):
        compiler.members(parse_rule({"kind": "segment", "segment": "a"}))
    with pytest.raises(UnknownReference, match="no goal 'gone'"):
        compiler.members(parse_rule({"kind": "goal", "goal": "gone"}))
    with pytest.raises(UnknownReference, match="no segment 'x'"):
        compiler.members(parse_rule({"kind": "segment", "segment": "x"}))
