"""Every writer of an SQLite file waits for its turn on one lock (tillit.storage.write_lock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from tillit.storage import engine as engine_module
from tillit.storage import make_engine, make_session_factory
from tillit.storage.session import SessionFactory

WRITE = text("INSERT INTO note (body) VALUES (:body)")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_SECONDS", 0.3)
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (body TEXT)"))
    yield engine
    engine.dispose()


def notes(sessions: SessionFactory) -> list[str]:
    with sessions() as session:
        return list(session.scalars(text("SELECT body FROM note ORDER BY rowid")))


def test_a_writer_waits_for_the_one_before_it_and_goes_the_moment_it_commits(
    database: Engine,
) -> None:
    sessions = make_session_factory(database)
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with sessions() as session, session.begin():
            session.execute(WRITE, {"body": "første"})
            holding.set()
            release.wait(5)
            order.append("first commits")

    def second() -> None:
        with sessions() as session, session.begin():
            session.execute(WRITE, {"body": "andra"})  # BEGIN IMMEDIATE: in its turn
            order.append("second writes")

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(5)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.1)
    waited = list(order)  # the second waits for its turn ...
    release.set()
    one.join(5)
    two.join(5)
    assert waited == []
    assert order == ["first commits", "second writes"]  # ... and goes when it comes
    assert notes(sessions) == ["første", "andra"]


def test_no_turn_within_the_busy_timeout_fails_and_gives_the_turn_up(
    database: Engine,
) -> None:
    """A writer that gave up must not take the lock later and keep it: the next one goes."""
    sessions = make_session_factory(database)
    with sessions() as session, session.begin():
        session.execute(WRITE, {"body": "en"})
        failed: list[BaseException] = []

        def late() -> None:
            try:
                with sessions() as other, other.begin():
                    other.execute(WRITE, {"body": "for sent"})
            except OperationalError as error:
                failed.append(error)

        waiter = threading.Thread(target=late)
        waiter.start()
        waiter.join(5)
        assert len(failed) == 1 and "no turn to write within 0.3 s" in str(failed[0])
    started = time.monotonic()
    with sessions() as session, session.begin():  # the lock is free again at once
        session.execute(WRITE, {"body": "to"})
    assert time.monotonic() - started < 0.2
    assert notes(sessions) == ["en", "to"]


def test_a_write_nested_in_a_write_of_the_same_thread_fails_instead_of_hanging(
    database: Engine,
) -> None:
    sessions = make_session_factory(database)
    with sessions() as outer, outer.begin():
        outer.execute(WRITE, {"body": "buiten"})
        with (
            pytest.raises(OperationalError, match="no turn to write"),
            sessions() as inner,
            inner.begin(),
        ):
            inner.execute(WRITE, {"body": "binnen"})
    assert notes(sessions) == ["buiten"]


def test_readers_and_a_rolled_back_writer_hold_no_turn(database: Engine) -> None:
    sessions = make_session_factory(database)
    readers = make_session_factory(database, read_only=True)
    with sessions() as session, session.begin():
        session.execute(WRITE, {"body": "one"})
        with readers() as reader:  # readers never wait for writers
            assert list(reader.scalars(text("SELECT count(*) FROM note"))) == [0]
    with pytest.raises(RuntimeError), sessions() as session, session.begin():
        session.execute(WRITE, {"body": "rolled back"})
        raise RuntimeError("the work failed")
    started = time.monotonic()
    with sessions() as session, session.begin():
        session.execute(WRITE, {"body": "two"})
    assert time.monotonic() - started < 0.2
    assert notes(sessions) == ["one", "two"]
