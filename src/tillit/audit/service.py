"""Recording and reading audit entries. Writes happen in the caller's transaction, so an
audited change and its audit entry commit (or roll back) together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tillit.audit.models import AuditEntry
from tillit.storage.base import utcnow


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, an API token, the system itself or a customer."""

    type: str
    id: str | None
    label: str
    ip: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type="system", id=None, label=label)


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        ip=actor.ip,
    )
    session.add(entry)
    return entry


def record_many(
    *,
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entries: Sequence[tuple[object, dict[str, Any] | None]],
) -> None:
    """:func:`record` for many entities at once, each ``(entity_id, after)``: one statement on
    the session's connection, for a batch (an outbox sender issues a link per message)."""
    if not entries:
        return
    session.connection().execute(
        insert(_ENTRIES),
        [
            {
                "at": utcnow(),
                "actor_type": actor.type,
                "actor_id": actor.id,
                "actor_label": actor.label,
                "action": action,
                "entity_type": entity_type,
                "entity_id": None if entity_id is None else str(entity_id),
                "before": None,
                "after": after,
                "ip": actor.ip,
            }
            for entity_id, after in entries
        ],
    )


_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]


def entries_for(
    *, session: Session, entity_type: str, entity_id: object, limit: int = 100
) -> list[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def recent(*, session: Session, limit: int = 100) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
