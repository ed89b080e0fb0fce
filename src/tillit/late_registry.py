"""Entries that other areas add when their module is imported, read by the area that owns the
mechanism (events' after-store hooks, identity's merge followers, dialogues' segment check).

The owning area names the registering modules and imports them by name on first use, so it
never imports them itself: they depend on it, not the other way round (no cycle)."""

from __future__ import annotations

import importlib
from typing import Generic, TypeVar

T = TypeVar("T")


class LateRegistry(Generic[T]):
    def __init__(self, *modules: str) -> None:
        self.modules = modules
        self._entries: list[T] = []
        self._loaded = False

    def add(self, entry: T) -> T:
        self._entries.append(entry)
        return entry

    def entries(self) -> list[T]:
        """Every entry, importing the registering modules the first time."""
        if not self._loaded:
            for module in self.modules:
                importlib.import_module(module)
            self._loaded = True
        return self._entries
