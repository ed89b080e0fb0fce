"""Recording what happened to each message while the next one is on its way to the provider.

A sender hands a message over (its SMTP data ends), and the record that it was sent (its row
``sent``, the send counted for the caps) must be committed before the *next* message is handed
over: that keeps the at-least-once window one message wide (docs/outreach.md, "Exactly once").
Nothing forbids preparing the next message meanwhile. So each record is committed on a thread
of its own while the sending thread sends the next envelope and data, and the sending thread
waits for it (:meth:`Recorder.wait`) just before the next hand-over. The commit (on PostgreSQL,
a wait for the write-ahead log's flush) then overlaps the SMTP round trips instead of following
them.

The recording thread holds its connections for the whole batch: a session per message would
check a connection out of the pool (and ping it) every time. Records run in the order they were
given, each in a transaction of its own. On PostgreSQL a record that is one statement runs on a
second connection in autocommit: the statement is its own transaction, one round trip to the
server instead of BEGIN, statement, COMMIT.

With ``durable=False`` (``TILLIT_OUTBOX_DURABLE_RECORDS=false``) the recording connections
commit with PostgreSQL's ``synchronous_commit = off``: a commit returns once the record is in
the server's memory, visible to every reader, and reaches the disk within about 0.6 s. A sender
killed at any moment still sends nothing twice (the server keeps what it was told); only a crash
of the database server itself forgets the last records, and those messages go out again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tillit.storage.session import SessionFactory

Record = Callable[[Session], object]
Statement = Callable[[Connection], object]


class Recorder:
    """Runs records (each a function of a session, in a transaction of its own) in order on
    one thread; :meth:`wait` blocks until every one given so far is committed, and raises the
    first that failed."""

    def __init__(self, sessions: SessionFactory, *, durable: bool = True) -> None:
        self._sessions = sessions
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-record")
        self._pending: list[Future[object]] = []
        # Opened, used and closed on the recording thread only.
        self._connection: Connection | None = None
        self._session: Session | None = None
        self._autocommit: Connection | None = None
        bind = sessions.kw["bind"]
        self._engine = bind
        #: Whether :meth:`record_statement` commits a statement by itself (PostgreSQL).
        self.autocommits = bind.dialect.name == "postgresql"
        # SQLite has no such setting: its commits always wait for the disk.
        self._wait_for_disk = durable or bind.dialect.name != "postgresql"

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            self._thread.submit(self._close)
            self._thread.shutdown(wait=True)

    def record(self, record: Record) -> None:
        """Commit ``record`` in the background, after everything given before it."""
        self._pending.append(self._thread.submit(self._run, record))

    def record_statement(self, statement: Statement) -> None:
        """Like :meth:`record`, for a record that is one statement (atomic by itself)."""
        self._pending.append(self._thread.submit(self._run_statement, statement))

    def wait(self) -> None:
        """Until everything given so far is committed; raises the first failure."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def _run(self, record: Record) -> object:
        if self._session is None:
            self._connection = self._connected()
            self._session = self._sessions(bind=self._connection)
        with self._session.begin():
            return record(self._session)

    def _run_statement(self, statement: Statement) -> object:
        if not self.autocommits:  # SQLite: a transaction as any other (it takes the write lock)
            return self._run(lambda session: statement(session.connection()))
        if self._autocommit is None:
            connection = self._connected()
            self._autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        return statement(self._autocommit)

    def _connected(self) -> Connection:
        connection = self._engine.connect()
        if not self._wait_for_disk:
            # For this connection's session, every transaction after this one.
            connection.exec_driver_sql("SET synchronous_commit TO off")
            connection.commit()
        return connection

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
        for connection in (self._connection, self._autocommit):
            if connection is None:
                continue
            if not self._wait_for_disk:
                # Never back to the pool with the setting: the next user of the connection
                # would commit without waiting for the disk too.
                connection.invalidate()
            connection.close()
        self._session = self._connection = self._autocommit = None
