"""The year's data requests, at its end: one customer asks for a copy of their data, and one
to be erased, someone the company has written to all year; both are registered, carried out by
the product's own services and completed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tillit.contact.tables import DecisionRecord
from tillit.demo.simulation.population import Person
from tillit.demo.simulation.world import ACTOR, World
from tillit.privacy.data_requests import complete_request, open_request
from tillit.privacy.erasure import erase_customer
from tillit.privacy.export import export_customer
from tillit.privacy.models import DataRequestKind


def act(world: World, progress: Callable[[int, int], None]) -> None:
    rng = world.rng("privacy")
    # Store-only people: one profile each, so "erased" means the whole person.
    candidates = [p for p, _ in world.everyone_with_profiles() if p.kind == "store"]
    if len(candidates) < 2:
        return  # a population too small to have two
    exporter, erased = rng.sample(candidates, 2)
    contacted = _contacted(world, [p for p in candidates if p is not exporter])
    if contacted:
        erased = rng.choice(contacted)
    with world.sessions() as session, session.begin():
        customer_id = world.profiles[exporter.index][0]
        request = open_request(
            session=session,
            customer_id=customer_id,
            kind=DataRequestKind.access,
            channel="email",
            actor=ACTOR,
        )
        export_customer(session=session, customer_id=customer_id)  # what would be sent
        complete_request(session=session, request_id=request.id, actor=ACTOR)
    world.counts["exports"] = 1
    progress(1, 2)
    with world.sessions() as session, session.begin():
        customer_id = world.profiles[erased.index][0]
        request = open_request(
            session=session,
            customer_id=customer_id,
            kind=DataRequestKind.erasure,
            channel="email",
            actor=ACTOR,
        )
        erase_customer(
            session=session,
            customer_id=customer_id,
            secret_key=world.settings.secret_key,
            actor=ACTOR,
            request_id=request.id,
            data_dir=world.settings.data_dir,
        )
        complete_request(session=session, request_id=request.id, actor=ACTOR)
    world.erased.add(erased.index)
    world.counts["erasures"] = 1
    progress(2, 2)


def _contacted(world: World, people: list[Person]) -> list[Person]:
    """Those of ``people`` the contact policy decided about during the year."""
    ids = {world.profiles[p.index][0]: p for p in people}
    with world.sessions() as session:
        decided = set(session.scalars(select(DecisionRecord.customer_id).distinct()))
    return [ids[customer_id] for customer_id in sorted(decided & ids.keys())]
