"""The ingest path writes with plain DBAPI statements (tillit.storage.bulk): what it stores must
be exactly what the ORM would store. The group commit it uses has tests of its own
(tests/storage/test_group_commit.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, event, select, text

from tillit.customers.models import Customer, Identity
from tillit.dialogues.models import Question
from tillit.events.models import Event
from tillit.events.repository import UNOWNED_EVENTS
from tillit.storage.bulk import Bulk
from tillit.storage.session import SessionFactory

CUSTOMERS = cast(Table, Customer.__table__)


def _stored(engine: Engine, table: str, row_id: int) -> dict[str, Any]:
    """A row as the database holds it (text on SQLite), without the ORM's read processing."""
    with engine.connect() as connection:
        row = connection.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id})
        return dict(row.mappings().one())


def test_bulk_insert_stores_what_the_orm_stores(engine: Engine, sessions: SessionFactory) -> None:
    when = datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=timezone(timedelta(hours=2)))
    values = {"name": "Åse", "locale": "da-DK", "time_zone": "Europe/Copenhagen"}
    with sessions() as session, session.begin():
        orm = Customer(**values, traits={"plan": "gold", "n": 1}, created_at=when, updated_at=when)
        session.add(orm)
        session.flush()
        (bulk_id,) = Bulk(session).insert(
            CUSTOMERS,
            [
                {
                    **values,
                    "traits": {"plan": "gold", "n": 1},
                    "created_at": when,
                    "updated_at": when,
                }
            ],
            returning_ids=True,
        )
        orm_id = orm.id
    by_orm, by_bulk = _stored(engine, "customer", orm_id), _stored(engine, "customer", bulk_id)
    assert bulk_id == orm_id + 1
    assert {**by_bulk, "id": None} == {**by_orm, "id": None}
    with sessions() as session:
        assert session.get(Customer, bulk_id).created_at == when  # type: ignore[union-attr]


def test_tracked_event_is_stored_as_the_orm_would(
    client: TestClient, write_key: str, engine: Engine, sessions: SessionFactory
) -> None:
    body = {
        "type": "track",
        "userId": "u-orm",
        "event": "Viewed",
        "messageId": "m-orm",
        "timestamp": "2026-03-01T10:00:00.5+01:00",
        "properties": {"price": 12.5, "tags": ["a", "ø"]},
    }
    assert client.post("/v1/batch", json={"batch": [body]}, auth=(write_key, "")).status_code == 200
    with sessions() as session, session.begin():
        stored = session.scalars(select(Event)).one()
        copy = Event(
            **{
                c: getattr(stored, c)
                for c in (column.name for column in Event.__table__.columns)
                if c != "id"
            }
        )
        copy.message_id = "m-orm-copy"
        session.add(copy)
        session.flush()
        ids = stored.id, copy.id
    raw, by_orm = (_stored(engine, "event", i) for i in ids)
    assert stored.timestamp == datetime(2026, 3, 1, 9, 0, 0, 500000, tzinfo=UTC)
    skip = {"id", "message_id"}
    assert {k: v for k, v in raw.items() if k not in skip} == {
        k: v for k, v in by_orm.items() if k not in skip
    }


def test_identities_of_new_people_are_complete(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    identify = {"type": "identify", "userId": "u-new", "traits": {"email": "New@Example.com"}}
    assert (
        client.post("/v1/batch", json={"batch": [identify]}, auth=(write_key, "")).status_code
        == 200
    )
    with sessions() as session:
        rows = session.scalars(select(Identity).order_by(Identity.type)).all()
        assert [(i.type, i.value) for i in rows] == [
            ("email", "new@example.com"),
            ("user_id", "u-new"),
        ]
        assert all(i.created_at is not None and i.verified is False for i in rows)
        assert rows[0].source == "source:web shop"


def test_stitching_looks_events_up_by_id_not_by_missing_customer(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    with engine.connect() as connection:
        for template in UNOWNED_EVENTS.values():
            sql = template.format(in_list="IN (SELECT value FROM json_each(?))")
            plan = " ".join(
                str(row[3])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("[]",))
            )
            assert (
                "ix_event_unowned_user (user_id=?)" in plan or "ix_event_unowned_anonymous" in plan
            ), plan
            assert "customer" not in plan, plan


def test_a_batch_without_trigger_names_reads_no_questions(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def post(event_name: str, message_id: str) -> None:
        body = {"type": "track", "userId": "u-t", "event": event_name, "messageId": message_id}
        response = client.post("/v1/batch", json={"batch": [body]}, auth=(write_key, ""))
        assert response.status_code == 200, response.text

    post("Viewed", "m-1")  # loads the trigger names once
    event.listen(engine, "before_cursor_execute", seen)
    try:
        post("Viewed", "m-2")
        assert not [s for s in statements if "dialogue_question" in s]
        with sessions() as session, session.begin():  # a new trigger, committed in this process
            question = session.scalars(select(Question).where(Question.active.is_(True))).first()
            assert question is not None
            question.trigger_event = "Store Visited"
        post("Store Visited", "m-3")
        assert [s for s in statements if "dialogue_question" in s]  # reloaded at once
    finally:
        event.remove(engine, "before_cursor_execute", seen)
