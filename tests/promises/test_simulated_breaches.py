"""The simulator injects known breaches of the company's promises and keeps them in its truth
file; measuring the simulated records finds every one of them and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from tillit.analytics.engine import connect
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.run import ACTS, simulate, truth_path
from tillit.promises.models import Promise, PromiseBreach
from tillit.promises.store import measure_promises
from tillit.storage.session import SessionFactory

NOW = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
# The people and their profiles, their consents and preferences, the newsletters planned
# through the contact policy (which keeps the promises), and the injected breaches.
WANTED = ("Store records", "Profiles", "Consents and preferences", "Newsletters", "Broken promises")


def test_every_injected_breach_is_found_and_nothing_else(
    sessions: SessionFactory,
    settings: Settings,
    defaults: Defaults,
    tmp_path: Path,
    client: TestClient,
    staff_csrf: str,
) -> None:
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = simulate(
        sessions=sessions,
        settings=own,
        defaults=defaults,
        options=Options(customers=120, days=60, seed=11),
        now=NOW,
        acts=tuple(act for act in ACTS if act[0] in WANTED),
    )
    assert report.simulated and report.counts["sends"] > 0, report.counts
    injected = [
        b
        for line in truth_path(tmp_path).read_bytes().splitlines()
        for b in orjson.loads(line).get("broken_promises", [])
    ]
    truth = {(b["promise"], b["evidence_kind"], b["evidence_id"]) for b in injected}
    assert len(truth) == 5  # a late case breaks two promises
    refresh_snapshots(sessions=sessions, data_dir=tmp_path)
    measure_promises(
        sessions=sessions,
        settings=own,
        model=lambda: Model(connect(own, "duckdb"), tmp_path),
        as_of=NOW,
    )
    with sessions() as session:
        rows = session.execute(select(Promise.key, PromiseBreach).join(Promise)).all()
    found = {(key, b.evidence_kind, b.evidence_id) for key, b in rows}
    true_positives = len(found & truth)
    precision = true_positives / len(found) if found else 0.0
    recall = true_positives / len(truth)
    assert (precision, recall) == (1.0, 1.0), (found - truth, truth - found)
    # Where each broke, as the truth says: the campaign that sent after the withdrawal, the
    # team the late complaint was assigned to; nothing for the others.
    where = {(key, b.evidence_kind, b.evidence_id): (b.campaign, b.team) for key, b in rows}
    assert {
        (b["promise"], b["evidence_kind"], b["evidence_id"]): (b.get("campaign"), b.get("team"))
        for b in injected
    } == where
    assert ("last-minute-offers", None) in where.values()
    assert "Customer care" in {team for _, team in where.values()}
    # Staff follow it to the campaign's own page.
    page = client.get("/staff/promises/marketing-stops")
    assert '<a href="/staff/campaigns/last-minute-offers">Last-minute offers</a>' in page.text
    assert client.get("/staff/campaigns/last-minute-offers").status_code == 200
