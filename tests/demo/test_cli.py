"""`tillit demo --no-serve`: the whole simulation (feedback themes included) from the command
line, once per data directory; a size too small to simulate is refused by name."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tillit.cli.main import app


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_demo_simulates_once(monkeypatch, settings, engine, tmp_path):
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(tmp_path))
    first = run("demo", "--no-serve", "--customers", "100", "--days", "30", "--seed", "5")
    assert first.exit_code == 0, first.output
    assert "Simulated 100 people over 30 days" in first.output
    summary = json.loads((tmp_path / "demo" / "simulated.json").read_text())
    assert summary["counts"]["comments"] == 480 and summary["counts"]["events"] > 300
    assert (tmp_path / "demo" / "truth.jsonl").stat().st_mode & 0o777 == 0o600
    again = run("demo", "--no-serve", "--customers", "100", "--days", "30", "--seed", "5")
    assert again.exit_code == 0 and "not simulated again" in again.output
    assert json.loads((tmp_path / "demo" / "simulated.json").read_text()) == summary


def test_too_few_people_are_refused_by_name():
    result = run("demo", "--no-serve", "--customers", "5")
    assert result.exit_code == 2 and "--customers" in result.output
