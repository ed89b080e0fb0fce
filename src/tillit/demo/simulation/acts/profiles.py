"""Which profiles the product made of each person: looked up by the keys the person gave
(their loyalty card, their web account), through the customers service as staff would."""

from __future__ import annotations

from collections.abc import Callable

from tillit.customers.models import IdentityType
from tillit.customers.service import find_by_identity
from tillit.demo.simulation.world import World


def act(world: World, progress: Callable[[int, int], None]) -> None:
    with world.sessions() as session:
        for n, person in enumerate(world.people):
            ids: list[int] = []
            for kind, value in (
                (IdentityType.loyalty_card, person.loyalty_card),
                (IdentityType.user_id, person.user_id),
            ):
                found = (
                    find_by_identity(
                        session=session, identity_type=kind, value=value, defaults=world.defaults
                    )
                    if value
                    else None
                )
                if found is not None and found.id not in ids:
                    ids.append(found.id)
            if ids:
                world.profiles[person.index] = ids
                for customer_id in ids:
                    world.owner[customer_id] = person.index
            if n % 500 == 0:
                progress(n, len(world.people))
    world.counts["profiles"] = len(world.owner)
    progress(len(world.people), len(world.people))
