"""`tillit experiments`: the life of an experiment from a JSON file, serving a variant, and the
analysis of a CSV file from elsewhere (checked against the statistics module directly)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tillit.audit.models import AuditEntry
from tillit.cli.main import app
from tillit.config import Settings
from tillit.experiments.statistics import (
    CovariateSample,
    Sample,
    compare_cuped,
    compare_means,
    sequential,
)
from tillit.storage.session import SessionFactory

from .conftest import definition


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_create_start_assign_list_and_stop(
    tmp_path: Path,
    cli_env: None,
    sessions: SessionFactory,
    make_customer: Callable[..., int],
) -> None:
    file = tmp_path / "experiment.json"
    file.write_text(json.dumps(definition()), encoding="utf-8")
    customer = make_customer()
    assert run("experiments", "create", str(file)) == (
        0,
        "Drafted experiment checkout-copy; start it with `tillit experiments start`.\n",
    )
    code, output = run("experiments", "assign", "checkout-copy", str(customer))
    assert code == 1 and "is draft" in output
    assert run("experiments", "start", "checkout-copy")[0] == 0
    code, output = run("experiments", "assign", "checkout-copy", str(customer))
    assert code == 0 and f"customer {customer}: " in output and "first exposure" in output
    code, output = run("experiments", "list")
    assert "checkout-copy" in output and "running" in output
    # Before the jobs process exported the lake the analysis has nobody yet, and says so.
    code, output = run("experiments", "results", "checkout-copy", "--format", "csv")
    assert code == 0 and output.startswith("metric,metric_name,role,kind,variant,")
    assert "unsubscribes,Unsubscribes,guardrail,conversion,pay-now" in output
    code, output = run("experiments", "results", "checkout-copy")
    assert code == 0 and "Nobody has been exposed yet." in output
    assert run("experiments", "stop", "checkout-copy", "--reason", "Enough data")[0] == 0
    code, output = run("experiments", "stop", "checkout-copy", "--reason", "Again")
    assert code == 1 and "only a running one stops" in output
    with sessions() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.actor_label == "cli")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["experiment.create", "experiment.start", "experiment.stop"]


def test_a_bad_file_is_refused_with_its_line_and_fields(tmp_path: Path, cli_env: None) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"key": "a",\n  "variants": [}\n', encoding="utf-8")
    code, output = run("experiments", "create", str(broken))
    assert code == 1 and "line 2" in output
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(definition(variants=[{"key": "control", "weight": 1}])))
    code, output = run("experiments", "create", str(wrong))
    assert code == 1 and "variants:" in output


def _units_file(path: Path, *, pre: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    data = {}
    lines = ["unit,variant,value" + (",pre" if pre else "")]
    for variant, effect, n in (("control", 0.0, 400), ("b", 1.5, 380), ("c", 0.0, 410)):
        before = rng.normal(50, 10, n)
        after = 0.8 * before + rng.normal(10 + effect, 5, n)
        data[variant] = (after, before)
        for i in range(n):
            row = f"{variant}-{i},{variant},{float(after[i])!r}"
            lines.append(row + (f",{float(before[i])!r}" if pre else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def test_analyse_prints_each_variant_against_control_as_json(tmp_path: Path) -> None:
    file = tmp_path / "units.csv"
    data = _units_file(file, pre=True)
    code, output = run("experiments", "analyse", str(file), "--format", "json")
    assert code == 0, output
    found = json.loads(output)
    expected = compare_means(Sample.of(data["control"][0]), Sample.of(data["b"][0]))
    b = found["variants"]["b"]
    assert b["n"] == 380 and b["difference"] == pytest.approx(expected.difference)
    assert (b["ci_low"], b["ci_high"], b["p_value"]) == pytest.approx(
        (expected.ci_low, expected.ci_high, expected.p_value)
    )
    cuped = compare_cuped(CovariateSample.of(*data["control"]), CovariateSample.of(*data["b"]))
    assert b["cuped"]["ci_low"] == pytest.approx(cuped.ci_low)
    assert b["cuped"]["ci_high"] - b["cuped"]["ci_low"] < b["ci_high"] - b["ci_low"]
    assert set(found["variants"]) == {"b", "c"} and found["control"]["n"] == 400
    assert found["srm_p_value"] > 0.001 and found["sample_ratio_mismatch"] is False

    code, output = run(
        "experiments", "analyse", str(file), "--format", "json", "--method", "sequential"
    )
    always = json.loads(output)["variants"]["b"]
    assert always["ci_low"] == pytest.approx(sequential(expected).ci_low)
    assert always["ci_low"] < b["ci_low"]
    code, output = run("experiments", "analyse", str(file))
    assert code == 0 and "CUPED" in output and "Sample ratio" in output


def test_analyse_names_every_bad_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(
        "unit,variant,value\nu1,control,1.5\nu2,control,abc\nu1,b,2\nu3,,1\nu4,b,nan\n",
        encoding="utf-8",
    )
    code, output = run("experiments", "analyse", str(file))
    assert code == 1
    for expected in (
        "line 3: value 'abc' is not a number",
        "line 4: unit 'u1' already appeared",
        "line 5: unit and variant must not be empty",
        "line 6: value must be",
    ):
        assert expected in output.replace("\n", " "), output
    missing = tmp_path / "missing.csv"
    missing.write_text("unit,group,value\n", encoding="utf-8")
    code, output = run("experiments", "analyse", str(missing))
    assert code == 1 and "missing column(s): variant" in output
