"""A worker process's short memory of checked credentials (API tokens, write keys).

Checking a credential costs a query in its own transaction and a hop through the thread pool,
as much as the rest of a small request. What a check found is trusted for a few seconds, so
a revoked token or a disabled source stops working within that window in every worker.
Only what checked out is remembered (a failed check raises before ``put``), so guessing keys
fills nothing; the size bound is a guard all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Generic, TypeVar

V = TypeVar("V")
MAX_ENTRIES = 10_000


class ExpiringCache(Generic[V]):
    def __init__(self, seconds: float, *, clock: Callable[[], float] = monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[str, tuple[V, float]] = {}  # key -> (value, deadline)

    def get(self, key: str) -> V | None:
        """The value put under ``key``, while its time lasts."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self.clock():
            del self._entries[key]
            return None
        return entry[0]

    def put(self, key: str, value: V, *, seconds: float | None = None) -> None:
        """``seconds``: a shorter time for this value (say, a token that expires sooner)."""
        lasts = self.seconds if seconds is None else min(seconds, self.seconds)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (value, self.clock() + lasts)

    def expire_all(self) -> None:
        """As if the window had passed for every entry."""
        self._entries.clear()
