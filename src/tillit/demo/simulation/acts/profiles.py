"""Which profiles the product made of each person, found by the keys the person gave (their
loyalty card, their web account): read back from the identities, in one query a chunk."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tillit.customers.models import Identity, IdentityType
from tillit.customers.normalise import normalise
from tillit.demo.simulation.world import World

CHUNK = 5000


def act(world: World, progress: Callable[[int, int], None]) -> None:
    kinds = (IdentityType.loyalty_card, IdentityType.user_id)
    wanted = {
        (str(kind), normalise(kind, value, default_country=world.defaults.country)): person.index
        for person in world.people
        for kind, value in zip(kinds, (person.loyalty_card, person.user_id), strict=True)
        if value
    }
    keys = sorted(wanted)
    found: dict[int, list[tuple[str, int]]] = {}
    with world.sessions() as session:
        for start in range(0, len(keys), CHUNK):
            values = [value for _, value in keys[start : start + CHUNK]]
            rows = session.execute(
                select(Identity.type, Identity.value, Identity.customer_id).where(
                    Identity.type.in_(kinds), Identity.value.in_(values)
                )
            )
            for kind, value, customer_id in rows:
                index = wanted.get((str(kind), value))
                if index is not None:
                    found.setdefault(index, []).append((str(kind), customer_id))
            progress(min(start + CHUNK, len(keys)), len(keys))
    for index, owned in found.items():
        ids = [c for _, c in sorted(owned)]  # loyalty_card sorts first: the store profile
        world.profiles[index] = list(dict.fromkeys(ids))
        for customer_id in ids:
            world.owner[customer_id] = index
    world.counts["profiles"] = len(world.owner)
