"""The five-language demo comments (web feedback form), spread over the simulated
customers, analysed for themes and alerts by the feedback service."""

from __future__ import annotations

from collections.abc import Callable

from tillit.demo.simulation.world import ACTOR, World
from tillit.feedback.demo import load_demo_feedback


def act(world: World, progress: Callable[[int, int], None]) -> None:
    progress(0, 1)
    rng = world.rng("feedback")
    customers = [ids[-1] for _, ids in world.everyone_with_profiles()]
    rng.shuffle(customers)
    with world.sessions() as session, session.begin():
        world.counts["comments"] = load_demo_feedback(
            session=session, actor=ACTOR, customer_ids=customers
        )
    progress(1, 1)
