from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select

from tillit.audit.service import Actor
from tillit.customers.models import Customer
from tillit.events.models import Event, Source
from tillit.events.timeline import timeline
from tillit.staff import service as staff
from tillit.storage.session import SessionFactory


def sign_in(client: TestClient, sessions: SessionFactory) -> str:
    with sessions() as session, session.begin():
        user = staff.create_user(
            session=session,
            email="lena@example.com",
            name="Lena",
            role="agent",
            password="correct horse battery",
            actor=Actor.system(),
        )
        new = staff.start_session(session=session, user=user, hours=1)
    client.cookies.set("tillit_session", new.token)
    return new.csrf_token


def test_timeline_page_filters_pages_and_undoes_merges(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    batch = [
        {"type": "identify", "anonymousId": "kiosk-1", "traits": {"email": "mo@example.com"}},
        {
            "type": "track",
            "anonymousId": "kiosk-1",
            "event": "Kiosk Visit",
            "context": {"channel": "store"},
        },
        {"type": "page", "userId": "mo", "name": "Start"},
        {"type": "identify", "userId": "mo", "traits": {"email": "mo@example.com"}},
    ] + [{"type": "page", "userId": "mo", "name": f"Page {n}"} for n in range(60)]
    assert (
        client.post("/v1/batch", json={"batch": batch}, auth=(write_key, "")).json()["merges"] == 1
    )
    csrf = sign_in(client, sessions)
    with sessions() as session:
        mo = session.scalar(select(Event.customer_id).where(Event.user_id == "mo").limit(1))
    page = client.get(f"/staff/customers/{mo}/timeline")
    assert page.status_code == 200
    assert "Both used e-mail (Identified event)" in page.text  # the stored reason, in words
    older = re.search(r'href="\?cursor=([^"&]+)', page.text)
    assert older is not None
    assert client.get(f"/staff/customers/{mo}/timeline?cursor={older.group(1)}").status_code == 200
    store_only = client.get(f"/staff/customers/{mo}/timeline?channel=store")
    assert "Kiosk Visit" in store_only.text and "Page 1<" not in store_only.text
    assert f"/staff/customers/{mo}/timeline" in client.get(f"/staff/customers/{mo}").text
    merge_id = re.search(r"/staff/merges/(\d+)/undo", page.text).group(1)  # type: ignore[union-attr]
    undone = client.post(
        f"/staff/merges/{merge_id}/undo", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert undone.status_code == 303
    assert "Kiosk Visit" not in client.get(f"/staff/customers/{mo}/timeline?channel=store").text


def test_keyset_pages_are_complete_and_fast_for_100k_events(
    sessions: SessionFactory, write_key: str
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with sessions() as session, session.begin():
        source_id = session.scalars(select(Source.id)).one()
        person = Customer(locale="en", time_zone="UTC", traits={})
        session.add(person)
        session.flush()
        rows = [
            {
                "source_id": source_id,
                "message_id": f"bulk-{n}",
                "type": "track",
                "name": "Tick",
                "channel": ("web", "app", "store")[n % 3],
                "customer_id": person.id,
                "timestamp": start + timedelta(seconds=n // 2),
                "received_at": start,
                "payload": {},
            }
            for n in range(100_000)
        ]
        session.execute(insert(Event), rows)
        person_id = person.id
    with sessions() as session:
        seen: list[int] = []
        cursor = None
        for _ in range(3):
            page = timeline(session=session, customer_id=person_id, cursor=cursor, limit=50)
            seen += [e.id for e in page.events]
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == 150
        statements: list[tuple[str, object]] = []
        connection = session.connection()

        def capture(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", capture)
        deep = timeline(
            session=session,
            customer_id=person_id,
            channel="store",  # type: ignore[arg-type]
            cursor=cursor,
            limit=50,
        )
        whole = timeline(session=session, customer_id=person_id, cursor=cursor, limit=50)
        event.remove(connection, "before_cursor_execute", capture)
        plans = []
        if connection.dialect.name == "sqlite":  # no timing: the plan shows the index is used
            for statement, parameters in statements:
                if "FROM event" in statement:
                    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    plans.append([str(row[-1]) for row in rows])
    assert len(deep.events) == 50 and {e.channel for e in deep.events} == {"store"}
    # The whole timeline goes on where the first three pages stopped, newest first, across
    # the channels (the rows were inserted oldest first, so newer means a higher id).
    assert [e.id for e in whole.events] == list(range(min(seen) - 1, min(seen) - 51, -1))
    assert {e.channel for e in whole.events} == {"web", "app", "store"}
    assert len(plans) == 2 or connection.dialect.name != "sqlite"  # the check below really ran
    for plan in plans:
        # One channel: one range of the index, already in order. The whole timeline: one
        # range per channel, each stopping after a page, merged (the sort holds at most
        # channels x page rows, however many events the person has).
        searches = [step for step in plan if step.startswith("SEARCH event USING")]
        assert searches and all(
            "ix_event_customer_channel_time (customer_id=? AND channel=?)" in step
            or "PRIMARY KEY" in step
            for step in searches
        ), plan
        assert not any(step.startswith("SCAN event") for step in plan), plan
    if plans:
        assert not any("TEMP B-TREE" in step for step in plans[0]), plans[0]
