"""A tracked `Order Completed` event schedules the CSAT question through the tracking API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.dialogues.models import Ask
from tillit.events.models import Channel
from tillit.events.sources import create_source


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
