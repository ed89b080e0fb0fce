"""The jobs process's rounds: the lake fills itself, and one failing round stops no other."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.events.lake import connect
from tillit.events.sources import create_source
from tillit.identity.rules import load_rules
from tillit.jobs import rounds
from tillit.jobs.rounds import JobContext, run_rounds
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel


@pytest.fixture
def jobs(sessions: SessionFactory, settings: Settings, defaults: Defaults, tmp_path) -> JobContext:
    own = settings.model_copy(update={"data_dir": tmp_path})
    return JobContext(sessions=sessions, settings=own, defaults=defaults, rules=load_rules())


def _track(client: TestClient, sessions: SessionFactory, count: int) -> None:
    with sessions() as session, session.begin():
        _, key = create_source(
            session=session, name="web shop", channel=SourceChannel.web, actor=Actor.system("test")
        )
    batch = [
        {
            "type": "track",
            "userId": f"u{n}",
            "event": "Product Viewed",
            "messageId": f"m{n}",
            "timestamp": datetime(2026, 11, 2, 9, n, tzinfo=UTC).isoformat(),
        }
        for n in range(count)
    ]
    answer = client.post("/v1/batch", json={"batch": batch}, auth=(key, ""))
    assert answer.status_code == 200, answer.text


def test_a_round_exports_new_events_to_the_lake(client, sessions, jobs):
    _track(client, sessions, 3)
    lake_now = [(name, job) for name, job in rounds.ROUNDS if name != "lake"]
    lake_now.append(("lake", lambda ctx: rounds._lake(ctx, settle_seconds=0)))
    first = run_rounds(jobs, tuple(lake_now))
    assert first["lake_exported"] == 3 and first["failed_rounds"] == 0
    assert "sent" in first  # the dialogue round ran in the same pass
    lake = connect(jobs.settings.data_dir)
    assert lake.execute("SELECT count(*) FROM events").fetchone() == (3,)
    assert run_rounds(jobs, tuple(lake_now))["lake_exported"] == 0


def test_the_lake_round_leaves_out_events_younger_than_the_settle_time(client, sessions, jobs):
    _track(client, sessions, 2)
    assert rounds._lake(jobs)["lake_exported"] == 0  # received just now: not settled yet


def test_a_failing_round_is_counted_and_the_next_still_runs(client, sessions, jobs):
    broken = replace(jobs, settings=jobs.settings.model_copy(update={"data_dir": None}))
    # The import round, the lake round (its snapshots), the analytics pages' warm-up and the
    # promises round need a data directory.
    counts = run_rounds(broken)
    assert counts["failed_rounds"] == 4
    assert "sent" in counts and "escalated" in counts  # dialogues still ran


def test_the_lake_round_writes_the_snapshots_once_until_a_table_changes(jobs):
    first = rounds._lake(jobs, settle_seconds=0)
    assert first["lake_snapshots_written"] > 0
    assert (jobs.settings.data_dir / "lake" / "customers" / "data.parquet").exists()
    assert rounds._lake(jobs, settle_seconds=0)["lake_snapshots_written"] == 0
