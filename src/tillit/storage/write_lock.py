"""One queue for every writer of an SQLite database file, across threads and processes.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps 1, 2, 5,
10 ... up to 100 ms between tries. While the tracking API's group commit keeps the database
busy, a plain write (a staff action, a job) waited ~1 ms at the median but 0.4-1 s at the
99th percentile (benchmarks/write_turns.py; 23-29 ms with this lock). So every write
transaction first takes an exclusive ``flock`` of ``<database>.write-lock``, from before its
``BEGIN IMMEDIATE`` until its commit or rollback, and SQLite's own lock is free by the time it
asks. Each connection opens the lock file itself: ``flock`` locks belong to an open file, so
two connections exclude each other even in one process.

Every writer waits for its turn in the kernel, which wakes the waiters the moment the lock is
free. A plain writer gives up after the busy timeout and fails as SQLite would ("database is
locked"), so it never hangs, not even on a write nested in another write of its own thread;
the group commit (tillit.storage.group) waits as long as it takes, and holds the lock a little
past its commit, for its checkpoint.
Writers outside Tillit (the sqlite3 shell) do not take the file lock and still meet SQLite's.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteLock:
    """The write lock as one connection holds it (a connection is used by one thread at a
    time). Held while ``depth`` > 0: a transaction and the group commit around it nest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.depth = 0
        self._descriptor: int | None = None

    def enter(self, *, timeout: float | None) -> None:
        """Waits for the lock in the kernel; with a ``timeout``, for at most that many
        seconds, then raises ``sqlite3.OperationalError``."""
        if self.depth == 0:
            descriptor = self._open()
            if timeout is None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            else:
                self._wait_at_most(descriptor, timeout)
        self.depth += 1

    def exit(self) -> None:
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0 and self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Held, waiting in the kernel for it, across the transactions begun meanwhile."""
        self.enter(timeout=None)
        try:
            yield
        finally:
            self.exit()

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file also drops its lock
            self._descriptor, self.depth = None, 0

    def _open(self) -> int:
        if self._descriptor is None:
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._descriptor

    def _wait_at_most(self, descriptor: int, timeout: float) -> None:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return  # free: the usual case, no thread
        except BlockingIOError:
            pass
        # flock has no timeout: a helper thread waits in the kernel on its own duplicate of
        # the descriptor (the same open file, so the same lock), and lets go of the lock at
        # once if it gets it after this caller has given up.
        waiter = _Waiter(os.dup(descriptor))
        threading.Thread(target=waiter.wait, name="tillit-write-turn", daemon=True).start()
        if not waiter.got.wait(timeout):
            with waiter.mutex:
                if not waiter.got.is_set():
                    waiter.abandoned = True
                    raise sqlite3.OperationalError(
                        f"database is locked: no turn to write within {timeout:g} s"
                    )
        if waiter.error is not None:
            raise waiter.error


class _Waiter:
    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.mutex = threading.Lock()
        self.got = threading.Event()
        self.abandoned = False
        self.error: OSError | None = None

    def wait(self) -> None:
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX)
            with self.mutex:
                if self.abandoned:
                    fcntl.flock(self.descriptor, fcntl.LOCK_UN)
                else:
                    self.got.set()
        except OSError as error:
            self.error = error
            self.got.set()
        finally:
            os.close(self.descriptor)  # the duplicate only: the lock stays with the open file


class LockingConnection(sqlite3.Connection):
    """An sqlite3 connection whose commit and rollback end its write transaction's turn.
    ``write_lock`` is set by tillit.storage.engine for a database file (None in memory);
    ``in_write`` while a transaction that took the lock is open."""

    write_lock: WriteLock | None = None
    in_write = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_write()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_write()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.write_lock is not None:
                self.write_lock.close()

    def begin_write(self, *, timeout: float) -> None:
        """BEGIN IMMEDIATE in its turn."""
        lock = self.write_lock
        if lock is not None:
            lock.enter(timeout=timeout)
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            if lock is not None:
                lock.exit()
            raise
        self.in_write = True

    def _end_write(self) -> None:
        if self.in_write:
            self.in_write = False
            if self.write_lock is not None:
                self.write_lock.exit()
