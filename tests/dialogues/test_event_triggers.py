"""A tracked `Order Completed` event schedules the CSAT question, through the tracking API and
through a file of events alike: the importer called as a function, `tillit import events`, and
a file sent to the import API and imported by the jobs round."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tillit.audit.service import Actor
from tillit.cli.main import app as cli
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.dialogues import scheduling
from tillit.dialogues.models import Ask
from tillit.events import import_jobs
from tillit.events.importing import import_file
from tillit.events.sources import create_source
from tillit.identity.rules import load_rules
from tillit.staff import service as staff
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

ACTOR = Actor.system("tests")


def test_an_order_completed_event_schedules_csat_two_days_later(client, sessions, make_customer):
    make_customer(email="orders@example.com")
    with sessions() as session, session.begin():
        _, key = create_source(
            session=session, name="web shop", channel=SourceChannel.web, actor=Actor.system("tests")
        )
    body = {
        "userId": "u-orders",
        "event": "Order Completed",
        "messageId": "m-order-1",
        "timestamp": "2026-11-20T10:00:00Z",
        "context": {"traits": {}},
        "properties": {"email": "orders@example.com"},
    }
    identify = {
        "userId": "u-orders",
        "messageId": "m-id-1",
        "traits": {"email": "orders@example.com"},
    }
    assert client.post("/v1/identify", json=identify, auth=(key, "")).status_code == 200
    assert client.post("/v1/track", json=body, auth=(key, "")).status_code == 200
    page = client.post(
        "/v1/track", json={**body, "event": "Page Viewed", "messageId": "m-2"}, auth=(key, "")
    )
    assert page.status_code == 200
    with sessions() as session:
        planned = list(session.scalars(select(Ask)))
    assert len(planned) == 1  # the page view triggers nothing
    ask = planned[0]
    assert ask.trigger == "Order Completed" and ask.status == "scheduled"
    assert ask.due_at == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # two days after the order


@pytest.mark.parametrize("workers", [0, 1], ids=["inline", "bulk-copy"])
def test_an_order_completed_in_an_imported_file_schedules_csat_too(
    sessions, defaults, make_customer, tmp_path, workers
):
    """The same question, whichever way the order arrives: the file importer (inline, and with
    a worker, where SQLite copies the chunk in bulk) runs the same after-store hooks as
    /v1/batch. It scheduled nothing before."""
    make_customer(email="filed@example.com")
    with sessions() as session, session.begin():
        source, _ = create_source(
            session=session, name="order system", channel=SourceChannel.web, actor=Actor.system("t")
        )
    lines = [
        {"type": "identify", "userId": "u-filed", "messageId": "f-1",
         "traits": {"email": "filed@example.com"}},
        {"type": "track", "userId": "u-filed", "event": "Order Completed", "messageId": "f-2",
         "timestamp": "2026-11-20T10:00:00Z"},
        {"type": "track", "userId": "u-filed", "event": "Page Viewed", "messageId": "f-3",
         "timestamp": "2026-11-20T10:05:00Z"},
    ]  # fmt: skip
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = import_file(
        sessions=sessions,
        path=path,
        source=source,
        rules=load_rules(),
        defaults=defaults,
        workers=workers,
    )
    assert report.accepted == 3
    with sessions() as session:
        planned = list(session.scalars(select(Ask)))
    assert [(a.trigger, a.status) for a in planned] == [("Order Completed", "scheduled")]
    assert planned[0].due_at == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    again = import_file(  # the same file again: nothing new, nothing scheduled twice
        sessions=sessions, path=path, source=source, rules=load_rules(), defaults=defaults
    )
    assert again.accepted == 0
    with sessions() as session:
        assert len(list(session.scalars(select(Ask)))) == 1


ORDER_FILE = [
    {"type": "identify", "userId": "u-sent", "messageId": "s-1",
     "traits": {"email": "sent@example.com"}},
    {"type": "track", "userId": "u-sent", "event": "Order Completed", "messageId": "s-2",
     "timestamp": "2026-11-20T10:00:00Z"},
]  # fmt: skip


def _scheduled(sessions: SessionFactory) -> list[tuple[str | None, str, datetime]]:
    with sessions() as session:
        return [(a.trigger, a.status, a.due_at) for a in session.scalars(select(Ask))]


def test_an_order_completed_imported_with_the_cli_schedules_csat(
    sessions, settings: Settings, make_customer, tmp_path, monkeypatch
):
    """`tillit import events FILE` (which makes its source) schedules the question too."""
    make_customer(email="sent@example.com")
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in ORDER_FILE))
    result = CliRunner().invoke(
        cli, ["import", "events", str(path), "--source", "order system"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "accepted 2" in result.output
    due = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert _scheduled(sessions) == [("Order Completed", "scheduled", due)]


def test_an_order_completed_sent_to_the_import_api_schedules_csat(
    client: TestClient, sessions, settings: Settings, defaults: Defaults, make_customer
):
    """A file sent to POST /api/v1/event-imports, imported by the jobs round (as `tillit
    serve` runs it), schedules the question when its events are stored, not before."""
    make_customer(email="sent@example.com")
    with sessions() as session, session.begin():
        create_source(session=session, name="order system", channel=SourceChannel.web, actor=ACTOR)
        token = staff.create_token(
            session=session, name="orders", scopes=["events:import"], actor=ACTOR
        ).plaintext
    answer = client.post(
        "/api/v1/event-imports",
        params={"source": "order system", "format": "jsonl"},
        content="".join(json.dumps(line) + "\n" for line in ORDER_FILE).encode(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202, answer.text
    assert _scheduled(sessions) == []  # queued, not imported yet
    counts = import_jobs.run_queued(
        sessions=sessions, data_dir=settings.data_dir, rules=load_rules(), defaults=defaults
    )
    assert counts == {"imports_done": 1, "imports_failed": 0}
    due = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert _scheduled(sessions) == [("Order Completed", "scheduled", due)]


def test_a_batch_of_events_plans_what_one_event_at_a_time_plans(sessions, make_customer):
    """``on_events`` (a tracked batch, the simulator's week) against ``on_event`` per event, in
    order: the same asks, one per customer and question while one waits, in each one's
    language."""
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

    def week(first: int, second: int) -> list[tuple[int, str, datetime]]:
        return [
            (first, "Order Completed", at),
            (first, "Order Completed", at + timedelta(hours=5)),  # one CSAT waits already
            (second, "Ticket Closed", at + timedelta(hours=1)),
            (second, "Page Viewed", at + timedelta(hours=2)),  # triggers nothing
            (first, "Ticket Closed", at + timedelta(hours=3)),
            (second, "Order Completed", at + timedelta(hours=4)),
        ]

    def planned(customer: int, session) -> list[tuple]:
        asks = session.scalars(select(Ask).where(Ask.customer_id == customer).order_by(Ask.id))
        return [
            (a.question_id, a.version_id, a.trigger, a.reason, a.due_at, a.expires_at, a.language)
            for a in asks
        ]

    batch = [
        make_customer(email=f"batch{n}@example.com", locale=loc)
        for n, loc in ((1, "sv"), (2, "da"))
    ]
    alone = [
        make_customer(email=f"alone{n}@example.com", locale=loc)
        for n, loc in ((1, "sv"), (2, "da"))
    ]
    with sessions() as session, session.begin():
        made = scheduling.on_events(session, week(*batch))
        for customer, name, when in week(*alone):
            scheduling.on_event(session, customer, name, when)
    with sessions() as session:
        for together, one_by_one in zip(batch, alone, strict=True):
            assert planned(together, session) == planned(one_by_one, session)
        assert [len(planned(c, session)) for c in batch] == [2, 2]
        assert {planned(c, session)[0][-1] for c in batch} == {"sv", "da"}
    assert len(made) == 4
