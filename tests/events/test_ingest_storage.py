"""The ingest path writes with plain DBAPI statements (tillit.storage.bulk) and commits batches
of concurrent requests together (tillit.storage.group): what it stores must be exactly what the
ORM would store, and each request must still get its own outcome."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, event, func, select, text

from tillit.customers.models import Customer, Identity
from tillit.dialogues.models import Question
from tillit.events.models import Event
from tillit.identity.resolve import UNOWNED_EVENTS
from tillit.storage.bulk import Bulk
from tillit.storage.group import GroupCommit, _Piece
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


def test_group_commit_gives_each_caller_its_own_outcome(
    sessions: SessionFactory, engine: Engine
) -> None:
    writes = GroupCommit(sessions)
    results: dict[int, object] = {}
    start = threading.Barrier(8)

    def work(n: int) -> None:
        def insert(session: Any) -> int:
            session.add(Customer(name=f"c{n}", locale="en", time_zone="UTC", traits={"n": n}))
            session.flush()
            if n == 3:
                raise ValueError("piece 3 fails after writing")
            return n

        start.wait()
        try:
            results[n] = writes.run(insert)
        except ValueError as error:
            results[n] = error

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(results.pop(3), ValueError)
    assert results == {n: n for n in range(8) if n != 3}
    with sessions() as session:
        names = set(session.scalars(select(Customer.name)))
        assert names == {f"c{n}" for n in range(8) if n != 3}
        assert session.scalar(select(func.count()).select_from(Customer)) == 7


def test_a_failing_piece_in_a_group_leaves_no_trace_and_the_others_are_stored(
    sessions: SessionFactory, engine: Engine
) -> None:
    """One group of three (taken as a leader takes a queue): the middle piece writes, then
    fails. The attempt without savepoints is rolled back whole and the group runs again piece by
    piece, so the others are stored once and the failing piece's row not at all."""
    if engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL each call is a transaction of its own: no groups")
    runs: list[int] = []

    def piece(n: int) -> Any:
        def work(session: Any) -> int:
            runs.append(n)
            session.add(Customer(name=f"g{n}", locale="en", time_zone="UTC", traits={}))
            session.flush()
            if n == 1:
                raise ValueError("the middle piece fails")
            return n

        return _Piece(work)

    group = [piece(n) for n in range(3)]
    GroupCommit(sessions)._commit(group)
    assert [p.result for p in group] == [0, None, 2]
    assert isinstance(group[1].error, ValueError) and group[0].error is group[2].error is None
    assert runs == [0, 1, 0, 1, 2]  # together until the failure, then apart
    with sessions() as session:
        assert sorted(session.scalars(select(Customer.name))) == ["g0", "g2"]


def test_submit_commits_in_a_writer_thread_that_comes_and_goes(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the tracking API awaits: futures resolved once committed, each with its own
    outcome; on SQLite the writer thread ends when idle and a later submit starts another."""
    monkeypatch.setattr("tillit.storage.group.WRITER_IDLE_SECONDS", 0.05)
    writes = GroupCommit(sessions)

    def work(n: int) -> Any:
        def insert(session: Any) -> int:
            session.add(Customer(name=f"s{n}", locale="en", time_zone="UTC", traits={}))
            session.flush()
            if n == 5:
                raise ValueError("piece 5 fails")
            return n

        return insert

    futures = [writes.submit(work(n)) for n in range(12)]
    assert not futures[7].cancel()  # queued means it will be written: no taking it back
    assert [f.exception(timeout=10) is not None for f in futures] == [n == 5 for n in range(12)]
    assert [f.result() for n, f in enumerate(futures) if n != 5] == [n for n in range(12) if n != 5]
    if writes.shared:
        deadline = time.monotonic() + 5
        while writes._writer is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writes._writer is None  # gone when idle
    assert writes.submit(work(20)).result(timeout=10) == 20  # and back on demand
    with sessions() as session:
        names = set(session.scalars(select(Customer.name)))
    assert names == {f"s{n}" for n in [*range(12), 20] if n != 5}
