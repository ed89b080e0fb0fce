"""The demo's checkout experiment: exposures from the web shop's tracker in both variants, each
person's variant in the truth file, and the orders that carry the known true effect."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import select

from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.demo.simulation.acts import experiments
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.run import ACTS, simulate, truth_path
from tillit.experiments.assignment import analysis_units
from tillit.experiments.models import Experiment, ExperimentStatus, Exposure

NOW = (datetime.now(UTC) - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
NEEDED = {"Store records", "Events on six channels", "Profiles", "A checkout experiment"}


def test_the_checkout_experiment_runs_with_its_truth(
    sessions, settings: Settings, defaults: Defaults, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = simulate(
        sessions=sessions,
        settings=own,
        defaults=defaults,
        options=Options(customers=400, days=90, seed=11),
        now=NOW,
        acts=tuple(act for act in ACTS if act[0] in NEEDED),
    )
    assert report.simulated and report.counts["experiment events"] > 0
    truth = [orjson.loads(line) for line in truth_path(tmp_path).read_bytes().splitlines()]
    told = Counter(
        name.rsplit(":", 1)[1]
        for person in truth
        for name in person.get("injected", {})
        if name.startswith(f"experiment:{experiments.KEY}:")
    )
    with sessions() as session:
        experiment = session.scalars(select(Experiment)).one()
        assert experiment.status == ExperimentStatus.running
        assert experiment.started_at is not None and experiment.started_at <= NOW
        via = set(session.scalars(select(Exposure.via)))
        units = analysis_units(session=session, key=experiments.KEY)
    assert via == {"track"}  # logged from the tracker's Experiment Viewed
    assert units.counts == dict(told) and set(told) == {"control", "pay-now"}
