"""How an area writes without knowing which database it writes to.

An area hands the writer a unit of work, ``work(session)``, that must not commit; the writer
runs it in a transaction and commits. ``submit`` is for callers that must not block (the
tracking API's event loop): on SQLite the work joins a group commit (tillit.storage.group).
``run`` is for a caller that waits anyway (the file importer), in its own thread and
transaction; with ``attach`` the connection also sees a scratch SQLite file as the schema
``staged`` (the importer's parsing workers write their chunks so). ``bind_timestamp`` turns a
datetime into what the driver is given for a timestamp column, so that work done before the
write (in the event loop, in a parsing worker) spares the writer that cost.

Areas see only the ``Writer`` protocol; dialect branches and driver access stay here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Column, Connection
from sqlalchemy.orm import Session

from tillit.storage.base import UtcDateTime
from tillit.storage.bulk import bind_processor
from tillit.storage.group import GroupCommit
from tillit.storage.session import SessionFactory

T = TypeVar("T")
Work = Callable[[Session], T]
# Every timestamp column is a UtcDateTime: one bind processor serves them all.
TIMESTAMP: Column[Any] = Column("timestamp", UtcDateTime())


class Writer(Protocol):
    @property
    def attaches_files(self) -> bool:
        """Whether ``run(..., attach=path)`` can copy from a scratch file in SQL (SQLite)."""
        ...

    def submit(self, work: Work[T]) -> Future[T]: ...

    def run(self, work: Work[T], *, attach: Path | None = None) -> T: ...

    def bind_timestamp(self, value: datetime) -> Any: ...


class DatabaseWriter:
    """The ``Writer`` of a session factory. ``group``: the group commit ``submit`` joins (the
    app keeps one for all requests); without one, ``submit`` runs the work at once, in the
    caller's thread, as ``run`` does."""

    def __init__(self, sessions: SessionFactory, *, group: GroupCommit | None = None) -> None:
        self.sessions = sessions
        self.group = group
        self._engine = sessions.kw["bind"]
        self._dialect = self._engine.dialect
        self.attaches_files = self._dialect.name == "sqlite"
        bind = bind_processor(self._dialect, TIMESTAMP)
        self._bind: Callable[[datetime], Any] = bind or _same

    def submit(self, work: Work[T]) -> Future[T]:
        if self.group is not None:
            return self.group.submit(work)
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(self.run(work))
        except Exception as error:  # the caller meets it at .result(), as from the group
            future.set_exception(error)
        return future

    def run(self, work: Work[T], *, attach: Path | None = None) -> T:
        if attach is None:
            with self.sessions() as session, session.begin():
                return work(session)
        if not self.attaches_files:
            raise ValueError("only SQLite attaches a scratch file")
        with (
            self._engine.connect() as connection,
            _attached(connection, attach),
            self.sessions(bind=connection) as session,
            session.begin(),
        ):
            return work(session)

    def bind_timestamp(self, value: datetime) -> Any:
        return self._bind(value)

    def timestamp_binder(self) -> Callable[[datetime], Any]:
        """``bind_timestamp`` as a plain function, to hand to a parsing worker process."""
        return self._bind


def _same(value: datetime) -> Any:
    return value


@contextmanager
def _attached(connection: Connection, path: Path) -> Iterator[None]:
    """``path`` attached as "staged" to an SQLite connection in no transaction (SQLite attaches
    and detaches only between transactions)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("ATTACH DATABASE ? AS staged", (str(path),))
    try:
        yield
    finally:
        driver.execute("DETACH DATABASE staged")
