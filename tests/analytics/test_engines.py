"""The information model read on DuckDB and on Spark: the same answers from the same files.

The files are written here with pyarrow (no database), in the lake's and the snapshots' own
layouts, so these tests read exactly what the jobs process writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import ibis
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend

from tests.analytics.conftest import parquet_only
from tillit.analytics.engine import connect
from tillit.analytics.snapshots import BY_NAME, SNAPSHOTS, snapshot_path
from tillit.analytics.tables import Model
from tillit.config import Settings
from tillit.events.lake import SCHEMA, lake_root

pytestmark = parquet_only

IDA, OLA, TWIN = 1, 2, 3  # TWIN was merged into IDA


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


EVENTS = [
    # id, customer, name, channel, when, properties
    # Sunday 23:30 UTC: week of 29 Dec; a quarter second in, as times to convert count whole
    # seconds on both engines (DuckDB's epoch keeps fractions, Spark's does not).
    (1, IDA, "Page Viewed", "web", _at(4, 23, 30).replace(microsecond=250_000), {}),
    (2, TWIN, "Order Completed", "email", _at(5, 0, 30), {"revenue": 100}),  # Monday
    (3, OLA, "Order Completed", "web", _at(12, 10), {"revenue": 50}),
    (4, OLA, "Page Viewed", "sms", _at(13, 9), {}),
]


def _write_lake(data_dir: Path) -> None:
    by_day: dict[date, list[dict]] = {}
    for event_id, customer, name, channel, when, properties in EVENTS:
        by_day.setdefault(when.date(), []).append(
            {
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
        )
    for day, rows in by_day.items():
        folder = lake_root(data_dir) / f"date={day.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), folder / "part-1.parquet")


def _write_snapshot(data_dir: Path, name: str, rows: list[dict]) -> None:
    path = snapshot_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=BY_NAME[name].schema), path)


def _customer(customer_id: int, locale: str, country: str) -> dict:
    return {
        "customer_id": customer_id,
        "language": locale.split("-")[0],
        "locale": locale,
        "country": country,
        "time_zone": "Europe/Copenhagen",
        "status": "active",
        "traits": "{}",
        "created_at": _at(1, 8),
        "updated_at": _at(1, 8),
    }


def _consent(consent_id: int, customer: int, sequence: int, purpose: str, decision: str) -> dict:
    return {
        "consent_id": consent_id,
        "customer_id": customer,
        "sequence": sequence,
        "purpose_key": purpose,
        "decision": decision,
        "method": "api",
        "channel": None,
        "notice_version": 1,
        "recorded_at": _at(2, sequence),
    }


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("lake")
    _write_lake(data_dir)
    _write_snapshot(
        data_dir,
        "customers",
        [_customer(IDA, "da-DK", "DK"), _customer(OLA, "nb-NO", "NO"), _customer(TWIN, "sv", "SE")],
    )
    _write_snapshot(data_dir, "person_map", [{"customer_id": TWIN, "person_id": IDA}])
    _write_snapshot(
        data_dir,
        "consents",
        [
            _consent(1, IDA, 1, "marketing", "granted"),
            _consent(2, IDA, 2, "marketing", "withdrawn"),
            _consent(3, TWIN, 1, "research", "granted"),
            _consent(4, OLA, 1, "marketing", "granted"),
        ],
    )
    return data_dir


def _weekly_buyers(model: Model) -> list[tuple]:
    """People with an order per week, with their revenue: a small goals-shaped query using the
    traps named in docs/analytics.md (weeks by truncate, JSON properties, identity merges)."""
    events = model.events()
    orders = events.filter(events.name == "Order Completed")
    # A cast, not unwrap_as: Ibis runs unwrap_as on Spark as a Python UDF.
    revenue = orders.payload.cast("json")["properties"]["revenue"].cast("float64")
    weekly = (
        orders.mutate(week=orders.timestamp.truncate("W").date(), revenue=revenue)
        .group_by("week")
        .aggregate(people=ibis._.person_id.nunique(), revenue=ibis._.revenue.sum())
        .order_by("week")
    )
    return [tuple(row.values()) for row in weekly.to_pyarrow().to_pylist()]


def test_events_resolve_to_the_surviving_person_in_utc_weeks(backend: BaseBackend, lake: Path):
    model = Model(backend, lake)
    events = model.events()
    per_person = events.group_by("person_id").aggregate(n=events.count()).order_by("person_id")
    assert per_person.to_pyarrow().to_pylist() == [
        {"person_id": IDA, "n": 2},  # her own event and her twin's
        {"person_id": OLA, "n": 2},
    ]
    weeks = events.mutate(week=events.timestamp.truncate("W").date())
    assert sorted(weeks.week.to_pyarrow().to_pylist()) == [
        date(2025, 12, 29),  # Sunday 23:30 UTC is still the week before, in UTC
        date(2026, 1, 5),
        date(2026, 1, 12),
        date(2026, 1, 12),
    ]
    assert _weekly_buyers(model) == [(date(2026, 1, 5), 1, 100.0), (date(2026, 1, 12), 1, 50.0)]


def test_people_and_their_current_consent(backend: BaseBackend, lake: Path):
    model = Model(backend, lake)
    people = model.customers().order_by("person_id")
    assert people.select("person_id", "language", "country").to_pyarrow().to_pylist() == [
        {"person_id": IDA, "language": "da", "country": "DK"},
        {"person_id": OLA, "language": "nb", "country": "NO"},
    ]
    state = model.consent_state().order_by(["person_id", "purpose_key"])
    rows = state.select("person_id", "purpose_key", "decision").to_pyarrow().to_pylist()
    assert [tuple(r.values()) for r in rows] == [
        (IDA, "marketing", "withdrawn"),  # the last in her chain, not the first
        (IDA, "research", "granted"),  # her twin's
        (OLA, "marketing", "granted"),
    ]


def test_both_engines_give_identical_results(analytics_settings: Settings, lake: Path):
    answers = {}
    for engine in ("duckdb", "spark"):
        model = Model(connect(analytics_settings, engine), lake)
        events = model.events()
        answers[engine] = (
            _weekly_buyers(model),
            events.select("id", "person_id", "timestamp").order_by("id").to_pyarrow().to_pylist(),
        )
    assert answers["duckdb"] == answers["spark"]


def test_before_any_export_every_table_is_empty_with_its_schema(
    backend: BaseBackend, tmp_path: Path
):
    model = Model(backend, tmp_path)
    assert model.events().count().to_pyarrow().as_py() == 0
    for snapshot in SNAPSHOTS:
        table = model.snapshot(snapshot.name)
        assert list(table.columns) == snapshot.schema.names
        assert table.count().to_pyarrow().as_py() == 0
    assert model.customers().count().to_pyarrow().as_py() == 0


def test_duckdb_create_table_works(analytics_settings: Settings):
    """Ibis's DuckDB ``create_table`` breaks with sqlglot 30.18 or newer (ibis issue 12124, a
    nameless DROP VIEW IF EXISTS): this fails if the pin in constraints.txt is lifted."""
    backend = connect(analytics_settings, "duckdb")
    made = backend.create_table("weeks", ibis.memtable({"week": [1, 2]}))
    assert made.count().to_pyarrow().as_py() == 2


def test_goal_conversions_by_channel_of_the_meeting(backend: BaseBackend, lake: Path):
    """Ida met on the web (4 Jan) and bought by e-mail through her twin's profile (5 Jan, 100);
    Ola bought on the web (12 Jan, 50) and met by SMS only afterwards."""
    from tillit.analytics.goals import EventGoal, by_channel

    goal = EventGoal("orders", "Order Completed", window_days=7, value_property="revenue")
    results = {r.channel: r for r in by_channel(Model(backend, lake), goal)}
    assert set(results) == {"web", "sms"}  # channels where someone was met
    web, sms = results["web"], results["sms"]
    assert (web.people_met, web.people_converted) == (1, 1)
    assert (web.first_touch, web.last_touch, web.linear) == (1.0, 1.0, 1.0)
    assert web.value_linear == 100.0 and web.mean_hours_to_convert == 1.0
    assert 0.2 < web.rate_low < web.rate == 1.0 == web.rate_high
    assert (sms.people_met, sms.people_converted, sms.linear) == (1, 0, 0.0)
