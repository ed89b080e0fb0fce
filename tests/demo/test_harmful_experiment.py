"""The demo's harmful experiment against the guardrails that protect the customer: after a small
simulated demo (300 people, 60 days), one experiments round stops the experiment whose variant
the truth file says harms people, naming the guardrail the truth says, and leaves the benign
checkout experiment running."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import orjson
from sqlalchemy import select

from tillit.analytics import reports
from tillit.analytics.snapshots import refresh_snapshots
from tillit.audit.models import AuditEntry
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.demo.simulation.acts import experiments, message_frequency
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.run import ACTS, simulate, truth_path
from tillit.events.lake import export_events
from tillit.experiments.guard import guard_experiments
from tillit.experiments.metrics import CUSTOMER_GUARDRAILS
from tillit.experiments.models import ExperimentStatus
from tillit.experiments.service import get_experiment
from tillit.storage.base import utcnow

NOW = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
SMALL = Options(customers=300, days=60)  # the browser tests' demo, with the default seed
NEEDED = {
    "Store records",
    "Events on six channels",
    "Profiles",
    "Consents and preferences",
    "A harmful messaging experiment",
    "A checkout experiment",
}
HARMFUL = message_frequency.KEY
BENIGN = experiments.KEY


def _told(truth: list[dict]) -> tuple[set[str], set[str]]:
    """From the truth file: the guardrails the harmful experiment was made to move, and the
    variants of the people it moved."""
    guardrails, variants = set(), set()
    for person in truth:
        injected = person.get("injected", {})
        moved = {n.rsplit(":", 1)[1] for n in injected if n.startswith(f"guardrail:{HARMFUL}:")}
        if moved:
            guardrails |= moved
            variants |= {
                n.rsplit(":", 1)[1] for n in injected if n.startswith(f"experiment:{HARMFUL}:")
            }
    return guardrails, variants


def test_the_guardrail_the_truth_names_stops_the_harmful_experiment_only(
    sessions, settings: Settings, defaults: Defaults, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = simulate(
        sessions=sessions,
        settings=own,
        defaults=defaults,
        options=SMALL,
        now=NOW,
        acts=tuple(act for act in ACTS if act[0] in NEEDED),
    )
    assert report.simulated and report.counts["message test exposures"] > 200
    truth = [orjson.loads(line) for line in truth_path(tmp_path).read_bytes().splitlines()]
    guardrails, variants = _told(truth)
    assert len(guardrails) == 1 and len(variants) == 1  # one harm, in one variant
    guardrail = next(m for m in CUSTOMER_GUARDRAILS if m.key in guardrails)
    harmful = variants.pop()
    with sessions() as session:
        running = get_experiment(session=session, key=HARMFUL)
        assert running.status == ExperimentStatus.running and running.auto_stop
        described = next(v["description"] for v in running.variants if v["key"] == harmful)

    # The jobs process's experiments round, after the lake round (as `tillit jobs run`).
    while export_events(sessions=sessions, data_dir=tmp_path, settle_seconds=0).events:
        pass
    refresh_snapshots(sessions=sessions, data_dir=tmp_path)
    guarded = guard_experiments(
        sessions=sessions,
        keep=partial(reports.cached, own.model_copy(update={"analytics_engine": "duckdb"})),
        now=utcnow(),
    )

    assert guarded.failed == {} and set(guarded.checked) == {HARMFUL, BENIGN}
    assert list(guarded.stopped) == [HARMFUL]
    with sessions() as session:
        stopped = get_experiment(session=session, key=HARMFUL)
        assert stopped.status == ExperimentStatus.stopped
        assert stopped.stopped_by == "experiment guardrail"
        reason = stopped.stop_reason or ""
        assert reason.startswith(
            f"Stopped by itself: its guardrail {guardrail.label} showed harm to the customer "
            f"in variant “{described}”: +"
        ), reason
        # The measured difference and its always-valid interval, wholly above 0.
        numbers = re.findall(r"([+-]\d+\.\d+) percentage points", reason)
        difference, low, high = (float(n) for n in numbers[:3])
        assert 0 < low < difference < high, reason
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "experiment.stop", AuditEntry.entity_id == HARMFUL
            )
        ).one()
        assert audit.actor_label == "experiment guardrail"
        assert get_experiment(session=session, key=BENIGN).status == ExperimentStatus.running
