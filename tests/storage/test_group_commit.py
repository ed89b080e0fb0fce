"""GroupCommit (tillit.storage.group): concurrent callers share SQLite transactions yet each
gets its own outcome; a failing piece is rolled back alone; a failed commit fails every piece;
submit's writer thread comes and goes; a leader takes at most max_group pieces; on PostgreSQL
a call that loses a race runs again and sees the winner's rows."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from tillit.customers.models import Customer, Identity, IdentityType
from tillit.storage.group import GroupCommit, _Piece
from tillit.storage.session import SessionFactory


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


def test_a_call_that_loses_a_race_runs_again_and_sees_the_winner(
    sessions: SessionFactory, engine: Engine
) -> None:
    """Eight callers create "the customer with this e-mail" at once. On PostgreSQL they run side
    by side, the losers hit the unique identity and run again; on SQLite they queue. Either way
    one customer is made and every caller gets its id."""
    writes = GroupCommit(sessions)
    start = threading.Barrier(8)
    ids: list[int] = []

    def find_or_create(session: Any) -> int:
        found = session.scalar(
            select(Identity.customer_id).where(
                Identity.type == IdentityType.email, Identity.value == "race@example.com"
            )
        )
        if found is not None:
            return int(found)
        customer = Customer(name="Race", locale="en", time_zone="UTC", traits={})
        session.add(customer)
        session.flush()
        time.sleep(0.02)  # widen the window in which the others also find nothing
        session.add(
            Identity(customer_id=customer.id, type=IdentityType.email, value="race@example.com")
        )
        session.flush()
        return int(customer.id)

    def caller() -> None:
        start.wait()
        ids.append(writes.run(find_or_create))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_leader_takes_at_most_max_group_pieces_oldest_first(sessions: SessionFactory) -> None:
    writes = GroupCommit(sessions, max_group=4)
    writes._queue = [_Piece(lambda session, n=n: n) for n in range(10)]
    first = writes._take()
    assert [piece.work(None) for piece in first] == [0, 1, 2, 3]
    assert len(writes._queue) == 6


def test_a_failed_commit_fails_every_piece_of_the_group(
    sessions: SessionFactory, engine: Engine
) -> None:
    """When the commit itself fails, nothing of the group is stored, so no caller may hear that
    its piece was: each gets the commit's error, none a result."""
    if engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL each call is a transaction of its own: no groups")

    def refuse(_session: Any) -> None:
        raise RuntimeError("the disk is full")

    def piece(n: int) -> Any:
        def work(session: Any) -> int:
            session.add(Customer(name=f"f{n}", locale="en", time_zone="UTC", traits={}))
            session.flush()
            if n == 2:  # the commit will fail, whichever piece set it up
                event.listen(session, "before_commit", refuse, once=True)
            return n

        return _Piece(work)

    group = [piece(n) for n in range(3)]
    GroupCommit(sessions)._commit(group)
    assert [p.result for p in group] == [None, None, None]
    assert all(isinstance(p.error, RuntimeError) and p.done for p in group)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
