"""Group commit: write work from many threads of one process, in shared SQLite transactions.

SQLite lets one writer in at a time, and with many requests waiting, a transaction per request
spends most of its time in what every transaction pays: taking the write lock, writing the
same index pages to the WAL again, committing. ``GroupCommit.run(work)`` queues ``work``; the
first waiting thread becomes the leader, takes everything queued (up to ``max_group``), runs
the pieces in one transaction and commits once. Each caller returns only after that commit,
with its own result or its own exception: when a piece fails, the group runs again with each
piece in its own SAVEPOINT, so the failing one is rolled back alone and does not touch the
others (``work`` must therefore be safe to run again after a rollback, as on PostgreSQL); a
failed commit fails the whole group, so nothing is reported as stored that is not. Pieces run
one after another, in arrival order, and each sees what the earlier ones wrote, exactly as
separate transactions one after another would.

Waiting threads queue on a lock in this process rather than in SQLite's busy handler, which
sleeps 1, 2, 5, 10 ms ... between tries. Leaders of several processes (uvicorn workers) queue
on the database's write lock (tillit.storage.write_lock), which every writer takes: a leader
waits for it in the kernel, which wakes it the moment the lock is free, and holds it from
before the transaction's ``BEGIN IMMEDIATE`` until after its checkpoint.
On PostgreSQL, where writers run side by side, ``run`` is a transaction of its own per call,
and a call that loses a race to a concurrent one (a unique violation on rows both tried to
create, a deadlock, a serialisation failure) runs again in a fresh transaction, which then
sees the winner's rows: ``work`` must be safe to run again after a rollback.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tillit.storage.engine import WAL_AUTOCHECKPOINT
from tillit.storage.session import SessionFactory

# PostgreSQL's codes for losing a race: unique_violation, deadlock_detected,
# serialization_failure. A call is tried this often before the error goes to its caller.
LOST_RACE = frozenset({"23505", "40P01", "40001"})
RACE_ATTEMPTS = 5
# submit's writer thread ends after this long without work (a new one starts on demand), and
# on PostgreSQL submit runs calls in a pool of this many threads.
WRITER_IDLE_SECONDS = 5.0
POOL_THREADS = 8
# How often the group commit checkpoints SQLite's write-ahead log (see GroupCommit._connection).
CHECKPOINT_SECONDS = 0.5

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Piece(Generic[T]):
    work: Callable[[Session], T]
    result: T | None = None
    error: BaseException | None = None
    done: bool = False
    future: Future[T] | None = None  # of ``submit``: resolved once the group is committed

    def finish(self) -> None:
        self.done = True
        if self.future is not None:
            if self.error is not None:
                self.future.set_exception(self.error)
            else:
                self.future.set_result(self.result)  # type: ignore[arg-type]


class GroupCommit:
    def __init__(self, sessions: SessionFactory, *, max_group: int = 32) -> None:
        self.sessions = sessions
        self.max_group = max_group
        self.engine = sessions.kw["bind"]
        self.shared = self.engine.dialect.name == "sqlite"
        self._checkpointed = time.monotonic()
        self._queue: list[_Piece[Any]] = []
        self._queue_lock = threading.Lock()
        self._queued = threading.Condition(self._queue_lock)
        self._leader = threading.Lock()
        self._writer: tuple[int, threading.Thread] | None = None  # (pid, thread) of submit
        self._pool: ThreadPoolExecutor | None = None  # PostgreSQL's submit

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """``run`` for callers that must not block, such as an event loop:
        ``await asyncio.wrap_future(writes.submit(work))``. On SQLite one writer thread per
        process (started on demand, gone after WRITER_IDLE_SECONDS without work) takes what is
        queued, as a leader of ``run`` does, so a request costs no hop through a thread pool
        and no leader election; on PostgreSQL each call runs in a thread of a small pool."""
        if not self.shared:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="tillit-write")
                weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool.submit(self._alone, work)
        future: Future[T] = Future()
        # Running from the start: a queued write cannot be taken back (a caller that stops
        # waiting, say a request whose client went away, cancels only its own wait), and the
        # writer can always resolve the future.
        future.set_running_or_notify_cancel()
        with self._queued:
            self._queue.append(_Piece(work, future=future))
            self._queued.notify()
            pid = os.getpid()
            if self._writer is None or self._writer[0] != pid or not self._writer[1].is_alive():
                thread = threading.Thread(
                    target=self._write, name="tillit-group-commit", daemon=True
                )
                self._writer = (pid, thread)
                thread.start()
        return future

    def _write(self) -> None:
        """The writer thread of ``submit``: groups until the queue stays empty for a while."""
        while True:
            with self._queued:
                if not self._queue:
                    self._queued.wait(WRITER_IDLE_SECONDS)
                if not self._queue:
                    self._writer = None  # under the lock: a submit now starts a new writer
                    return
            with self._leader:
                group = self._take()
                if group:  # else a leader of ``run`` took them
                    self._commit(group)

    def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` must not commit; its result comes back once it is committed."""
        if not self.shared:
            return self._alone(work)
        piece: _Piece[T] = _Piece(work)
        with self._queue_lock:
            self._queue.append(piece)
        while not piece.done:
            with self._leader:
                if not piece.done:  # else a leader before us took it along
                    self._commit(self._take())
        if piece.error is not None:
            raise piece.error
        return piece.result  # type: ignore[return-value]

    def _take(self) -> list[_Piece[Any]]:
        """The next group: up to ``max_group`` pieces, oldest first (hold ``_leader``)."""
        with self._queue_lock:
            group = self._queue[: self.max_group]
            del self._queue[: self.max_group]
        return group

    def _alone(self, work: Callable[[Session], T]) -> T:
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                with self.sessions() as session, session.begin():
                    return work(session)
            except DBAPIError as error:
                if attempt == RACE_ATTEMPTS or _sqlstate(error) not in LOST_RACE:
                    raise
                time.sleep(random.uniform(0, 0.01 * attempt))  # noqa: S311 - not for secrets
        raise AssertionError("unreachable")

    def _commit(self, group: list[_Piece[Any]]) -> None:
        """The group in one transaction. First without a SAVEPOINT per piece, which costs
        SQLite and SQLAlchemy as much as a small piece's own statements: pieces almost never
        fail, their input was checked before they were queued. If one does fail, that attempt
        is rolled back whole and the group runs again with a SAVEPOINT per piece, so that only
        the failing piece is lost."""
        committed = False
        try:
            with self._connection() as connection, self._turn(connection):
                with self.sessions(bind=connection) as session:
                    if not self._try_together(session, group):
                        session.rollback()
                        self._run_apart(session, group)
                    session.commit()
                committed = True
                self._checkpoint_if_due(connection)
        except BaseException as error:
            if committed:  # stored: only the checkpoint or putting the setting back failed
                logger.warning("after a group commit: %r", error)
            else:  # the commit failed: nothing of the group is stored
                for piece in group:
                    if piece.error is None:
                        piece.error = error
                    piece.result = None
            if not isinstance(error, Exception):
                raise
        finally:
            for piece in group:
                piece.finish()

    @staticmethod
    def _try_together(session: Session, group: list[_Piece[Any]]) -> bool:
        """Runs every piece in the open transaction; False at the first that raises."""
        for piece in group:
            try:
                piece.result = piece.work(session)
            except Exception:
                for done in group:
                    done.result = None
                return False
        return True

    @staticmethod
    def _run_apart(session: Session, group: list[_Piece[Any]]) -> None:
        """Each piece in its own SAVEPOINT: a failing one is rolled back to it, reported to
        its own caller, and does not touch the others."""
        for piece in group:
            try:
                with session.begin_nested():
                    piece.result = piece.work(session)
            except Exception as error:
                piece.error = error

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection of our own for the group, with SQLite's automatic checkpoint off.

        By default the commit that takes the write-ahead log past 1,000 pages copies them into
        the database file and syncs both, on the writer's time: with many small commits that
        is several times a second, and here every other writer waits for it. The group commit
        checkpoints itself instead, at most every ``CHECKPOINT_SECONDS`` (see
        ``_checkpoint_if_due``); the setting is put back before the pool hands the connection
        to anyone else.
        """
        with self.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_autocheckpoint=0")  # a setting: no transaction begins
            try:
                yield connection
            finally:
                try:
                    driver.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
                except BaseException:
                    connection.invalidate()  # not back to the pool with the setting off
                    raise

    @staticmethod
    def _turn(connection: Connection) -> AbstractContextManager[None]:
        """The database's write lock, held across the group's transaction and checkpoint."""
        lock = getattr(connection.connection.driver_connection, "write_lock", None)
        return lock.held() if lock is not None else nullcontext()

    def _checkpoint_if_due(self, connection: Connection) -> None:
        """Copies the log into the database file, still holding the lock across processes, so
        that the checkpoint completes (no group of another process appends meanwhile) and the
        next write starts the log over instead of growing it."""
        now = time.monotonic()
        if now - self._checkpointed < CHECKPOINT_SECONDS:
            return
        self._checkpointed = now
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)
