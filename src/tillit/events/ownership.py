"""Events follow the profile their identifiers belong to: when identity merges two profiles,
or undoes a merge, it tells its followers (tillit.identity.merge), and this moves the events.
Identity never writes the ``event`` table itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from tillit.customers.models import IdentityType
from tillit.events.models import Event
from tillit.identity.merge import follow


class EventOwnership:
    def merged(self, session: Session, *, from_id: int, into_id: int) -> None:
        session.execute(
            update(Event).where(Event.customer_id == from_id).values(customer_id=into_id)
        )

    def merged_many(
        self, session: Session, *, moves: Sequence[tuple[int, int]], chunk: int = 1000
    ) -> None:
        # Events move only where there are any: profiles from a customer import often have none.
        ids = sorted({i for move in moves for i in move})
        holding: set[int] = set()
        for start in range(0, len(ids), chunk):
            holding.update(
                session.scalars(
                    select(Event.customer_id)
                    .where(Event.customer_id.in_(ids[start : start + chunk]))
                    .distinct()
                )
            )
        needed = []
        for from_id, into_id in moves:
            if from_id in holding:
                needed.append({"f": from_id, "t": into_id})
                # A profile that received events in this batch passes them on when it merges on.
                holding.add(into_id)
        if needed:
            events = cast(Table, Event.__table__)
            session.connection().execute(
                events.update()
                .where(events.c.customer_id == bindparam("f"))
                .values(customer_id=bindparam("t")),
                needed,
            )

    def unmerged(
        self, session: Session, *, keys: list[tuple[str, str]], holders: set[int], owner: int
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


follow(EventOwnership())
