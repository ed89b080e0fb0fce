"""Group commit: write work from many threads of one process, in shared SQLite transactions.

SQLite lets one writer in at a time, and with many requests waiting, a transaction per request
spends most of its time in what every transaction pays: taking the write lock, writing the
same index pages to the WAL again, committing. ``GroupCommit.run(work)`` queues ``work``; the
first waiting thread becomes the leader, takes everything queued (up to ``max_group``), runs
each piece in its own SAVEPOINT of one transaction and commits once. Each caller returns only
after that commit, with its own result or its own exception: a failing piece is rolled back to
its savepoint and does not touch the others; a failed commit fails the whole group, so nothing
is reported as stored that is not. Pieces run one after another, in arrival order, and each sees
what the earlier ones wrote, exactly as separate transactions one after another would.

Waiting threads queue on a lock in this process rather than in SQLite's busy handler, which
sleeps 1, 2, 5, 10 ms ... between tries. Other processes still meet the busy timeout.
On PostgreSQL, where writers run side by side, ``run`` is a transaction of its own per call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from tillit.storage.session import SessionFactory

T = TypeVar("T")


@dataclass(eq=False)
class _Piece(Generic[T]):
    work: Callable[[Session], T]
    result: T | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    def __init__(self, sessions: SessionFactory, *, max_group: int = 32) -> None:
        self.sessions = sessions
        self.max_group = max_group
        self.shared = sessions.kw["bind"].dialect.name == "sqlite"
        self._queue: list[_Piece[Any]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` must not commit; its result comes back once it is committed."""
        if not self.shared:
            with self.sessions() as session, session.begin():
                return work(session)
        piece: _Piece[T] = _Piece(work)
        with self._queue_lock:
            self._queue.append(piece)
        while not piece.done:
            with self._leader:
                if not piece.done:  # else a leader before us took it along
                    with self._queue_lock:
                        group = self._queue[: self.max_group]
                        del self._queue[: self.max_group]
                    self._commit(group)
        if piece.error is not None:
            raise piece.error
        return piece.result  # type: ignore[return-value]

    def _commit(self, group: list[_Piece[Any]]) -> None:
        try:
            with self.sessions() as session:
                for piece in group:
                    try:
                        with session.begin_nested():
                            piece.result = piece.work(session)
                    except Exception as error:  # its own failure, reported to its own caller
                        piece.error = error
                session.commit()
        except BaseException as error:  # the commit failed: nothing of the group is stored
            for piece in group:
                if piece.error is None:
                    piece.error = error
                piece.result = None
            if not isinstance(error, Exception):
                raise
        finally:
            for piece in group:
                piece.done = True
