"""What other areas do when events are stored, one list for every way events come in: the
tracking API, the file importer and the import API's jobs all call ``after_store`` in the
transaction that stores the events. Areas register here (events never imports them, so no
cycle): a dialogue question triggered by ``Order Completed`` is scheduled whichever way the
order arrived.

A hook says which event names it wants (``wanted``), so a path that must read its events back
from the database (the importer's bulk copy) reads only those, and nothing when no hook wants any.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.events.models import Event, EventType


@dataclass(frozen=True)
class StoredEvent:
    customer_id: int | None
    type: str
    name: str | None
    timestamp: datetime


class AfterStore(Protocol):
    def wanted(self, session: Session) -> frozenset[str]: ...

    def __call__(self, session: Session, events: list[StoredEvent]) -> None: ...


HOOKS: list[AfterStore] = []
# Areas whose modules register hooks; imported by name when first needed.
AREA_HOOKS = ("tillit.dialogues.hooks",)
_loaded = False


def register(hook: AfterStore) -> AfterStore:
    HOOKS.append(hook)
    return hook


def _load() -> list[AfterStore]:
    global _loaded
    if not _loaded:
        for module in AREA_HOOKS:
            importlib.import_module(module)
        _loaded = True
    return HOOKS


def wanted(session: Session) -> frozenset[str]:
    """Every event name some hook acts on."""
    return frozenset().union(*(hook.wanted(session) for hook in _load()))


def after_store(session: Session, events: list[StoredEvent]) -> None:
    if not events:
        return
    for hook in _load():
        hook(session, events)


def stored_since(
    session: Session,
    *,
    source_id: int,
    received_at: datetime,
    after_id: int,
    names: frozenset[str],
) -> list[StoredEvent]:
    """Tracked events with one of ``names`` that a bulk path just stored, read back: the batch's
    own source, receipt time and ids (an id range alone could take in another writer's)."""
    if not names:
        return []
    rows = session.execute(
        select(Event.customer_id, Event.type, Event.name, Event.timestamp)
        .where(
            Event.id > after_id,
            Event.source_id == source_id,
            Event.received_at == received_at,
            Event.type == EventType.track,
            Event.name.in_(names),
        )
        .order_by(Event.id)
    )
    return [StoredEvent(*row) for row in rows]


def newest_event_id(session: Session) -> int:
    return session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0
