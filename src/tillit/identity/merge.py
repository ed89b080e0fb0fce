"""Merging two profiles and undoing it. Both run in the caller's transaction, with an audit entry.

A merge moves the identities and events of ``from`` onto ``into`` and keeps ``from`` as an empty
shell (other areas may point at it); the Merge row remembers exactly what moved, so an unmerge
moves back those identities, wherever later merges took them, and the events they explain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.models import Customer, Identity, IdentityType
from tillit.customers.service import snapshot
from tillit.errors import Conflict, NotFound
from tillit.events.models import Event
from tillit.identity.models import Merge
from tillit.storage.base import utcnow


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
    session.execute(update(Event).where(Event.customer_id == from_id).values(customer_id=into_id))
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
    _reattribute_events(session, keys, holders, entry.from_customer_id)
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


def _reattribute_events(
    session: Session, keys: list[tuple[str, str]], holders: set[int], owner: int
) -> None:
    """Events follow the identifiers that explain them: the moved user and anonymous ids."""
    users = [v for t, v in keys if t == IdentityType.user_id]
    anonymous = [v for t, v in keys if t == IdentityType.anonymous_id]
    conditions: list[Any] = []
    if users:
        conditions.append(Event.user_id.in_(users))
    if anonymous:
        # An event with a user id belongs to that user's profile, whatever device sent it.
        conditions.append(Event.anonymous_id.in_(anonymous) & Event.user_id.is_(None))
    if conditions:
        session.execute(
            update(Event)
            .where(Event.customer_id.in_(holders), or_(*conditions))
            .values(customer_id=owner)
        )


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
