"""Merging two profiles and undoing it. Both run in the caller's transaction, with an audit entry.

A merge moves the identities and events of ``from`` onto ``into`` and keeps ``from`` as an empty
shell (other areas may point at it); the Merge row remembers exactly what moved, so an unmerge
moves back those identities, wherever later merges took them, and the events they explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import orjson
from sqlalchemy import Table, or_, select, tuple_, update
from sqlalchemy.orm import Session

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor, record
from tillit.customers.models import Customer, Identity
from tillit.customers.service import snapshot
from tillit.errors import Conflict, NotFound
from tillit.identity.models import Merge
from tillit.late_registry import LateRegistry
from tillit.storage.base import utcnow
from tillit.storage.bulk import Bulk

CUSTOMERS = cast(Table, Customer.__table__)
IDENTITIES = cast(Table, Identity.__table__)
MERGES = cast(Table, Merge.__table__)
AUDIT_ENTRIES = cast(Table, AuditEntry.__table__)


class Followers(Protocol):
    """An area whose rows belong to a profile through its identifiers (events do): it moves
    them when identity moves the identifiers. Identity resolves owners and never writes the
    other areas' tables itself."""

    def merged(self, session: Session, *, from_id: int, into_id: int) -> None:
        """Everything of ``from_id`` now belongs to ``into_id``."""

    def merged_many(self, session: Session, *, moves: Sequence[tuple[int, int]]) -> None:
        """``merged`` for each (from, into) pair, in order, in bulk."""

    def unmerged(
        self, session: Session, *, keys: list[tuple[str, str]], holders: set[int], owner: int
    ) -> None:
        """What ``keys`` (moved back to ``owner``) explain, wherever among ``holders`` it is,
        belongs to ``owner`` again."""


# Areas whose modules register followers; imported by name when first needed (no cycle).
FOLLOWERS: LateRegistry[Followers] = LateRegistry("tillit.events.ownership")
follow = FOLLOWERS.add


def merge_profiles(
    *,
    session: Session,
    from_id: int,
    into_id: int,
    reason: str,
    actor: Actor,
    message_id: str | None = None,
) -> Merge:
    if from_id == into_id:
        raise Conflict("a profile cannot be merged into itself")
    source, target = session.get(Customer, from_id), session.get(Customer, into_id)
    if source is None or target is None:
        raise NotFound(f"customer {from_id if source is None else into_id} does not exist")
    moved = [
        [str(t), v]
        for t, v in session.execute(
            select(Identity.type, Identity.value).where(Identity.customer_id == from_id)
        )
    ]
    added_traits = {
        k: v for k, v in (source.traits or {}).items() if k not in (target.traits or {})
    }
    entry = Merge(
        from_customer_id=from_id,
        into_customer_id=into_id,
        reason=reason[:200],
        message_id=message_id,
        by=actor.label,
        moved_identities=moved,
        from_snapshot={"profile": snapshot(source), "added_traits": sorted(added_traits)},
    )
    session.add(entry)
    session.execute(
        update(Identity).where(Identity.customer_id == from_id).values(customer_id=into_id)
    )
    for followers in FOLLOWERS.entries():
        followers.merged(session, from_id=from_id, into_id=into_id)
    if added_traits:
        target.traits = {**(target.traits or {}), **added_traits}
    if target.name is None and source.name:
        target.name = source.name
    session.flush()
    record(
        session=session,
        actor=actor,
        action="customer.merge",
        entity_type="customer",
        entity_id=into_id,
        after={"merge_id": entry.id, "from": from_id, "reason": reason, "identities": moved},
    )
    return entry


def current_holder(*, session: Session, customer_id: int) -> int:
    """The profile that holds ``customer_id``'s identities now: itself, or, where it was merged
    away, the profile it went into, followed through later merges (each step only through a
    merge made after the one before it, so a profile merged away and merged back ends where its
    identities are). Undone merges are not followed."""
    holder, after = customer_id, 0
    while True:
        step = session.execute(
            select(Merge.id, Merge.into_customer_id)
            .where(
                Merge.from_customer_id == holder,
                Merge.undone_at.is_(None),
                Merge.id > after,
            )
            .order_by(Merge.id)
            .limit(1)
        ).first()
        if step is None:
            return holder
        after, holder = step


# Hand-written SQL of merge_many (module constants, see tillit.storage.bulk).
_PROFILES = (
    "SELECT id, name, locale, time_zone, country, traits, status FROM customer WHERE id {in_list}"
)
_HELD = "SELECT customer_id, type, value FROM identity WHERE customer_id {in_list} ORDER BY id"
_MOVE_IDENTITIES = "UPDATE identity SET customer_id = {p} WHERE customer_id = {p}"
_UPDATE_PROFILE = "UPDATE customer SET traits = {p}, name = {p}, updated_at = {p} WHERE id = {p}"


@dataclass(frozen=True)
class PlannedMerge:
    from_id: int
    into_id: int
    reason: str


def merge_many(
    *, session: Session, merges: Sequence[PlannedMerge], actor: Actor, chunk: int = 1000
) -> list[int]:
    """``merge_profiles`` for many pairs at once, in order (a profile may receive merges and
    later merge on): the same Merge rows, moves and audit entries, written as a few bulk
    statements (plain DBAPI through ``Bulk``, no ORM objects, no statement compiled per
    chunk) instead of a few queries per pair. Returns the Merge ids in the order given.
    Profiles it changes must not be loaded, changed, in ``session``."""
    if not merges:
        return []
    bulk = Bulk(session)
    ids = sorted({i for m in merges for i in (m.from_id, m.into_id)})
    profiles, held = _read_profiles(bulk, ids, chunk)
    if missing := [i for i in ids if i not in profiles]:
        raise NotFound(f"customer {missing[0]} does not exist")
    before = {i: (p["traits"], p["name"]) for i, p in profiles.items()}
    rows, now = [], utcnow()
    for m in merges:
        source, target = profiles[m.from_id], profiles[m.into_id]
        moved = held[m.from_id]
        added = {k: v for k, v in source["traits"].items() if k not in target["traits"]}
        rows.append(
            {
                "from_customer_id": m.from_id,
                "into_customer_id": m.into_id,
                "reason": m.reason[:200],
                "message_id": None,
                "by": actor.label,
                "at": now,
                "moved_identities": moved,
                "from_snapshot": {"profile": dict(source), "added_traits": sorted(added)},
            }
        )
        held[m.into_id], held[m.from_id] = held[m.into_id] + moved, []
        target["traits"] = {**target["traits"], **added}
        target["name"] = target["name"] or source["name"]
    merge_ids = bulk.insert(MERGES, rows, returning_ids=True)
    bulk.many(_MOVE_IDENTITIES, [(m.into_id, m.from_id) for m in merges])
    for followers in FOLLOWERS.entries():
        followers.merged_many(session, moves=[(m.from_id, m.into_id) for m in merges])
    traits, stamp = bulk.bind(CUSTOMERS.c.traits), bulk.bind(CUSTOMERS.c.updated_at)
    bulk.many(
        _UPDATE_PROFILE,
        [
            (traits(p["traits"]), p["name"], stamp(now), i)
            for i, p in profiles.items()
            if (p["traits"], p["name"]) != before[i]
        ],
    )
    bulk.insert(
        AUDIT_ENTRIES,
        [
            {
                "at": now,
                "actor_type": actor.type,
                "actor_id": actor.id,
                "actor_label": actor.label,
                "action": "customer.merge",
                "entity_type": "customer",
                "entity_id": str(m.into_id),
                "before": None,
                "after": {
                    "merge_id": merge_id,
                    "from": m.from_id,
                    "reason": m.reason,
                    "identities": row["moved_identities"],
                },
                "ip": actor.ip,
            }
            for m, merge_id, row in zip(merges, merge_ids, rows, strict=True)
        ],
    )
    return merge_ids


def _read_profiles(
    bulk: Bulk, ids: Sequence[int], chunk: int
) -> tuple[dict[int, dict[str, Any]], dict[int, list[list[str]]]]:
    """Each profile in ``customers.service.snapshot``'s shape, and its identities in order."""
    profiles: dict[int, dict[str, Any]] = {}
    held: dict[int, list[list[str]]] = {i: [] for i in ids}
    for start in range(0, len(ids), chunk):
        part = bulk.list_param(ids[start : start + chunk])
        for customer_id, name, locale, zone, country, traits, status in bulk.rows(
            _PROFILES, (part,)
        ):
            document = orjson.loads(traits) if isinstance(traits, str | bytes) else traits
            profiles[int(customer_id)] = {
                "name": name,
                "locale": locale,
                "time_zone": zone,
                "country": country,
                "traits": dict(document or {}),
                "status": str(status),
            }
        for customer_id, kind, value in bulk.rows(_HELD, (part,)):
            held[int(customer_id)].append([str(kind), value])
    return profiles, held


def unmerge(*, session: Session, merge_id: int, actor: Actor) -> Merge:
    entry = session.get(Merge, merge_id)
    if entry is None:
        raise NotFound(f"merge {merge_id} does not exist")
    if entry.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    keys = [(t, v) for t, v in entry.moved_identities]
    holders: set[int] = {entry.into_customer_id}
    if keys:
        holders |= set(
            session.scalars(
                select(Identity.customer_id).where(tuple_(Identity.type, Identity.value).in_(keys))
            )
        )
        session.execute(
            update(Identity)
            .where(tuple_(Identity.type, Identity.value).in_(keys))
            .values(customer_id=entry.from_customer_id)
        )
    for followers in FOLLOWERS.entries():
        followers.unmerged(session, keys=keys, holders=holders, owner=entry.from_customer_id)
    _restore_traits(session, entry)
    entry.undone_at = utcnow()
    entry.undone_by = actor.label
    session.flush()
    record(
        session=session,
        actor=actor,
        action="customer.unmerge",
        entity_type="customer",
        entity_id=entry.into_customer_id,
        after={"merge_id": entry.id, "restored": entry.from_customer_id},
    )
    return entry


def _restore_traits(session: Session, entry: Merge) -> None:
    target = session.get(Customer, entry.into_customer_id)
    added = entry.from_snapshot.get("added_traits", [])
    if target is not None and added:
        target.traits = {k: v for k, v in (target.traits or {}).items() if k not in added}


def merges_for(*, session: Session, customer_id: int) -> list[Merge]:
    return list(
        session.scalars(
            select(Merge)
            .where(
                or_(Merge.from_customer_id == customer_id, Merge.into_customer_id == customer_id)
            )
            .order_by(Merge.id.desc())
        )
    )
