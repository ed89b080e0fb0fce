"""`tillit analytics funnel` and `cohorts` over the hand-made lakes of test_funnels_cohorts.py,
on DuckDB (that module shows Spark gives the same answers); no database is involved."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.analytics.conftest import parquet_only
from tests.analytics.test_funnels_cohorts import COHORT_EVENTS, FUNNEL_EVENTS, write_events
from tillit.cli.main import app

pytestmark = parquet_only

STEPS = ["--step", "Product Viewed", "--step", "Added to Cart", "--step", "Order Completed"]


def _use(monkeypatch: pytest.MonkeyPatch, data_dir: Path, events: list[tuple]) -> None:
    monkeypatch.setenv("TILLIT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TILLIT_ENV", "test")
    write_events(data_dir, events)


def test_funnel_as_json_and_as_a_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    _use(monkeypatch, tmp_path, FUNNEL_EVENTS)
    runner = CliRunner()
    answer = runner.invoke(
        app,
        [
            "analytics",
            "funnel",
            *STEPS,
            "--within",
            "24h",
            "--engine",
            "duckdb",
            "--format",
            "json",
        ],
    )
    assert answer.exit_code == 0, answer.output
    rows = orjson.loads(answer.output)
    total = [row["people"] for row in rows if row["channel"] == "(all)"]
    assert total == [7, 6, 5]  # as test_funnels_cohorts works out: 2 orders too late for 24 h
    strict = runner.invoke(app, ["analytics", "funnel", *STEPS, "--mode", "strict"])
    assert strict.exit_code == 0, strict.output
    assert "Dropped" in strict.output and "Order" in strict.output
    assert "28.6%" in strict.output  # 2 of 7 through the strict funnel


def test_funnel_errors_in_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    _use(monkeypatch, tmp_path, FUNNEL_EVENTS)
    runner = CliRunner()
    one = runner.invoke(app, ["analytics", "funnel", "--step", "Product Viewed"])
    assert one.exit_code != 0 and "at least two steps" in one.output
    window = runner.invoke(app, ["analytics", "funnel", *STEPS, "--within", "7 days"])
    assert window.exit_code != 0 and "not a window" in window.output
    mode = runner.invoke(app, ["analytics", "funnel", *STEPS, "--mode", "sideways"])
    assert mode.exit_code != 0 and "sideways" in mode.output


def test_cohorts_without_arguments_are_weekly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    _use(monkeypatch, tmp_path, COHORT_EVENTS)
    runner = CliRunner()
    table = runner.invoke(app, ["analytics", "cohorts"])
    assert table.exit_code == 0, table.output
    assert "2026-01-05" in table.output and "2026-01-12" in table.output
    answer = runner.invoke(app, ["analytics", "cohorts", "--period", "month", "--format", "json"])
    assert answer.exit_code == 0, answer.output
    assert [(r["cohort"], r["period"], r["people"]) for r in orjson.loads(answer.output)] == [
        ("2026-01-01", 0, 4)
    ]
    bad = runner.invoke(app, ["analytics", "cohorts", "--period", "day"])
    assert bad.exit_code != 0 and "day" in bad.output


def test_cohorts_before_any_event(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    _use(monkeypatch, tmp_path, [])
    answer = CliRunner().invoke(app, ["analytics", "cohorts", "--engine", "duckdb"])
    assert answer.exit_code == 0, answer.output
    assert "No events in the lake yet" in answer.output
