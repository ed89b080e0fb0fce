"""`tillit analytics define-goal` and `goals`: a goal stored in the database (SQLite and
PostgreSQL), reported from the lake on DuckDB (tests/analytics/test_engines.py shows Spark
gives the same answer)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.analytics.test_engines import IDA, TWIN, _write_lake, _write_snapshot
from tillit.cli.main import app
from tillit.config import Settings


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path) -> Path:
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TILLIT_ENV", "test")
    _write_lake(tmp_path)
    _write_snapshot(tmp_path, "person_map", [{"customer_id": TWIN, "person_id": IDA}])
    return tmp_path


def test_a_defined_goal_is_reported_by_channel(cli_env: Path, engine):
    runner = CliRunner()
    defined = runner.invoke(
        app,
        [
            *("analytics", "define-goal", "cli-orders", "--event", "Order Completed"),
            *("--value", "revenue", "--window", "7"),
        ],
    )
    assert defined.exit_code == 0, defined.output

    answer = runner.invoke(
        app, ["analytics", "goals", "cli-orders", "--engine", "duckdb", "--format", "json"]
    )
    assert answer.exit_code == 0, answer.output
    rows = {row["channel"]: row for row in orjson.loads(answer.output)["cli-orders"]}
    assert rows["web"]["people_converted"] == 1 and rows["web"]["value_last_touch"] == 100.0
    assert rows["sms"]["people_converted"] == 0

    table = runner.invoke(app, ["analytics", "goals", "--engine", "duckdb"])
    assert table.exit_code == 0 and "cli-orders" in table.output


def test_a_goal_defined_twice_or_badly_is_refused_in_words(cli_env: Path, engine):
    runner = CliRunner()
    args = ["analytics", "define-goal", "cli-twice", "--event", "Order Completed"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code != 0 and "exists already" in again.output
    bad = runner.invoke(app, ["analytics", "define-goal", "Not A Key", "--event", "X"])
    assert bad.exit_code != 0 and "lower-case letters" in bad.output
    filters = runner.invoke(
        app, ["analytics", "define-goal", "cli-f", "--event", "X", "--where", "novalue"]
    )
    assert filters.exit_code != 0 and "PROPERTY=VALUE" in filters.output
    unknown = runner.invoke(app, ["analytics", "goals", "no-such-goal"])
    assert unknown.exit_code != 0 and "no goal" in unknown.output


def test_goals_of_other_kinds_and_breakdowns_on_the_command_line(cli_env: Path, engine):
    """A sign-up goal (the customers snapshot: Ida's profile made after her web visit) and
    a consent goal naming a purpose that does not exist, refused in words."""
    from tests.analytics.test_engines import _customer

    _write_snapshot(cli_env, "customers", [_customer(IDA, "da-DK", "DK")])
    runner = CliRunner()
    bad = runner.invoke(
        app, ["analytics", "define-goal", "cli-lead", "--kind", "consent", "--purpose", "nope"]
    )
    assert bad.exit_code != 0 and "no consent purpose" in bad.output
    made = runner.invoke(app, ["analytics", "define-goal", "cli-signup", "--kind", "signup"])
    assert made.exit_code == 0, made.output
    answer = runner.invoke(
        app,
        [*("analytics", "goals", "cli-signup", "--by", "country"), *("--format", "json")],
    )
    assert answer.exit_code == 0, answer.output
    rows = orjson.loads(answer.output)["cli-signup"]
    # Ida's profile dates from 1 January, before her visits: no meeting came before it.
    assert rows == [
        {
            "group": "DK",
            "people_met": 1,
            "people_converted": 0,
            "rate": 0.0,
            "rate_low": 0.0,
            "rate_high": rows[0]["rate_high"],
            "conversions": 0,
            "value": 0.0,
        }
    ]
    table = runner.invoke(app, ["analytics", "goals", "--by", "week", "--engine", "duckdb"])
    assert table.exit_code == 0 and "sign-up" in table.output and "2025-12-29" in table.output
