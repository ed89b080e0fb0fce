"""Segment's own Python library, pointed at a real `tillit serve`, and the people it describes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from segment.analytics import Client
from sqlalchemy import select

from tillit.customers.models import Identity
from tillit.events.models import Event
from tillit.storage.session import SessionFactory

from .server import free_port, start_server

pytestmark = pytest.mark.slow


def test_segment_library_events_resolve_to_one_person(
    database_url: str, tmp_path: Path, write_key: str, sessions: SessionFactory
) -> None:
    port = free_port()
    server = start_server(database_url=database_url, data_dir=tmp_path, port=port)
    errors: list[object] = []
    try:
        client = Client(
            write_key,
            host=f"http://127.0.0.1:{port}",
            sync_mode=True,
            gzip=True,
            max_retries=1,
            on_error=lambda error, _batch: errors.append(error),
        )
        client.page(anonymous_id="browser-77", name="Home")
        client.track(anonymous_id="browser-77", event="Product Viewed", properties={"sku": "TEA-1"})
        client.identify(
            user_id="eva-1",
            anonymous_id="browser-77",
            traits={"email": "eva@example.com", "name": "Eva Example"},
        )
        client.track(user_id="eva-1", event="Order Completed", properties={"total": 99})
        client.alias(previous_id="crm-4411", user_id="eva-1")
        client.page(anonymous_id="someone-else", name="Home")
        client.flush()
    finally:
        server.terminate()
        server.wait()
    assert errors == []
    with sessions() as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
        eva = session.scalar(
            select(Identity.customer_id).where(
                Identity.type == "email", Identity.value == "eva@example.com"
            )
        )
    assert len(events) == 6
    assert [e.customer_id for e in events[:5]] == [eva] * 5
    assert events[5].customer_id is None
    assert events[1].payload["properties"] == {"sku": "TEA-1"}
    assert events[0].payload["context"]["library"]["name"] == "analytics-python"


def test_one_bad_event_in_the_librarys_batch_of_100_is_rejected_alone(
    database_url: str, tmp_path: Path, write_key: str, sessions: SessionFactory
) -> None:
    """The library queues 100 events and sends them as one batch: an event whose time cannot
    be expressed in UTC, and one with a NUL, no longer lose the other 98 (the library got a
    500, retried, and stored none)."""
    port = free_port()
    server = start_server(database_url=database_url, data_dir=tmp_path, port=port)
    errors: list[object] = []
    try:
        client = Client(
            write_key,
            host=f"http://127.0.0.1:{port}",
            upload_size=100,
            max_retries=1,
            on_error=lambda error, _batch: errors.append(error),
        )
        year_one_east = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
        for n in range(100):
            properties = {"note": "a\x00b"} if n == 70 else {"n": n}
            client.track(
                user_id=f"kunde-{n % 10}",
                event="Vare set",
                properties=properties,
                timestamp=year_one_east if n == 30 else None,
                message_id=f"sdk-{n}",
            )
        client.flush()
    finally:
        server.terminate()
        server.wait()
    assert errors == []
    with sessions() as session:
        stored = set(session.scalars(select(Event.message_id)))
    assert stored == {f"sdk-{n}" for n in range(100)} - {"sdk-30", "sdk-70"}
