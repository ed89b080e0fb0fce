"""The year's data requests: one customer asks for a copy of their data, and one to be
erased; both are registered, carried out by the product's own services and completed."""

from __future__ import annotations

from collections.abc import Callable

from tillit.consent.data_requests import complete_request, export_customer, open_request
from tillit.consent.erasure import erase_customer
from tillit.consent.models import DataRequestKind
from tillit.demo.simulation.world import ACTOR, World


def act(world: World, progress: Callable[[int, int], None]) -> None:
    rng = world.rng("privacy")
    # Store-only people: one profile each, so "erased" means the whole person. This act runs
    # before any message is planned: erasing someone with logged contact decisions fails
    # until the erasure deletes what refers to them first (issue 14, the erasure area's fix).
    candidates = [p for p, _ in world.everyone_with_profiles() if p.kind == "store"]
    if len(candidates) < 2:
        return  # a population too small to have two
    exporter, erased = rng.sample(candidates, 2)
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
