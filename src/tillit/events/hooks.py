"""What other areas do when events are stored, one list for every way events come in: the
tracking API, the file importer and the import API's jobs all store through
tillit.events.tracking.receive_batch, which calls ``after_store`` in the transaction that
stores the events. Areas register here (events never imports them, so no
cycle): a dialogue question triggered by ``Order Completed`` is scheduled whichever way the
order arrived.

A hook says which event names it wants (``wanted``), so a path that must read its events back
from the database (the importer's bulk copy) reads only those, and nothing when no hook wants any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tillit.late_registry import LateRegistry


@dataclass(frozen=True)
class StoredEvent:
    customer_id: int | None
    type: str
    name: str | None
    timestamp: datetime
    # The message as received; read only by a hook that needs more than the name (a tracked
    # ``Experiment Viewed`` names its experiment and variant in its properties), so a batch
    # whose messages arrive as undecoded JSON text (the importer) is decoded only then.
    raw: Mapping[str, Any] | None = None

    @property
    def properties(self) -> Mapping[str, Any]:
        found = self.raw.get("properties") if self.raw is not None else None
        return found if isinstance(found, Mapping) else {}


class AfterStore(Protocol):
    def wanted(self, session: Session) -> frozenset[str]: ...

    def __call__(self, session: Session, events: list[StoredEvent]) -> None: ...


# Areas whose modules register hooks; imported by name when first needed.
HOOKS: LateRegistry[AfterStore] = LateRegistry("tillit.dialogues.hooks", "tillit.experiments.hooks")
register = HOOKS.add


def wanted(session: Session) -> frozenset[str]:
    """Every event name some hook acts on."""
    return frozenset().union(*(hook.wanted(session) for hook in HOOKS.entries()))


def after_store(session: Session, events: list[StoredEvent]) -> None:
    if not events:
        return
    for hook in HOOKS.entries():
        hook(session, events)
