"""Probabilistic matching between the store's records and the web shop's accounts, as
``tillit match run store "web shop"`` does it: near-certain pairs merge, the rest wait for
review on the matches page."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tillit.demo.simulation.acts.customers import SOURCE as STORE
from tillit.demo.simulation.world import ACTOR, World
from tillit.identity.suggestions import match_sources

WEB_SHOP = "source:web shop"


def act(world: World, progress: Callable[[int, int], None]) -> None:
    progress(0, 1)
    # Splink warns about parameters a small demo cannot train; that is for the operator who
    # runs ``tillit match run``, not for someone starting the demo.
    logging.disable(logging.WARNING)
    try:
        _run(world)
    finally:
        logging.disable(logging.NOTSET)
    progress(1, 1)


def _run(world: World) -> None:
    with world.sessions() as session, session.begin():
        report = match_sources(
            session=session, settings=world.settings, names=[STORE, WEB_SHOP], actor=ACTOR
        )
    world.counts["match suggestions"] = report.suggested
    world.counts["matches merged"] = report.merged
