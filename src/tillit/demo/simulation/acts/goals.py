"""The company's goals, defined as staff would: orders (with their revenue), leads into the
permission base (marketing consent given) and sign-ups, so the goals page has something to
show from the first day."""

from __future__ import annotations

from collections.abc import Callable

from tillit.analytics.goal_store import define_goal
from tillit.demo.simulation.world import ACTOR, World


def act(world: World, progress: Callable[[int, int], None]) -> None:
    with world.sessions() as session, session.begin():
        define_goal(
            session=session,
            key="orders",
            name="Orders",
            event="Order Completed",
            value_property="revenue",
            actor=ACTOR,
        )
        define_goal(
            session=session,
            key="leads",
            name="New marketing consent",
            kind="consent",
            purpose="marketing",
            actor=ACTOR,
        )
        define_goal(session=session, key="signups", name="Sign-ups", kind="signup", actor=ACTOR)
    progress(3, 3)
