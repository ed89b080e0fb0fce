"""A tracked `Order Completed` event schedules the CSAT question, through the tracking API and
through a file of events alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.dialogues.models import Ask
from tillit.events.importer import import_file
from tillit.events.models import Channel
from tillit.events.sources import create_source
from tillit.identity.rules import load_rules


def test_an_order_completed_event_schedules_csat_two_days_later(client, sessions, make_customer):
    make_customer(email="orders@example.com")
    with sessions() as session, session.begin():
        _, key = create_source(
            session=session, name="web shop", channel=Channel.web, actor=Actor.system("tests")
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
            session=session, name="order system", channel=Channel.web, actor=Actor.system("t")
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
