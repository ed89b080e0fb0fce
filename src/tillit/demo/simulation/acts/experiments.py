"""One running experiment with a known true effect, so the experiments pages show real data.

The web shop tests its checkout button (``checkout-copy``) over the simulation's last 60 days:
signed-up web customers are shown one of two variants, 50/50, chosen by the shop's own
A/B tool and reported by its tracker as Segment's ``Experiment Viewed`` (Tillit logs the
exposure from it). The latent truth: within 14 days of the exposure a person orders with
probability 0.10 under ``control`` and 0.13 under ``pay-now`` (a true lift of +3 percentage
points); each person's variant is in their ``injected`` counts in the truth file
(``experiment:checkout-copy:<variant>``). Everything goes through Tillit's own services and
the bulk event importer, as the other acts do.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.analytics.goal_store import define_goal
from tillit.analytics.models import Goal
from tillit.demo.simulation.world import ACTOR, World
from tillit.events.importing import import_file
from tillit.events.sources import get_or_create_source
from tillit.experiments.definitions import parse_definition
from tillit.experiments.models import Experiment
from tillit.experiments.service import create_experiment, start_experiment
from tillit.vocabulary import SourceChannel

KEY = "checkout-copy"
DAYS = 60
WINDOW_DAYS = 14
TRUE_RATE = {"control": 0.10, "pay-now": 0.13}  # ordering within 14 days of exposure
DEFINITION = {
    "key": KEY,
    "name": "Checkout button copy",
    "hypothesis": "Saying 'Pay now' instead of 'Continue' raises completed orders.",
    "variants": [
        {"key": "control", "weight": 1, "description": "Continue"},
        {"key": "pay-now", "weight": 1, "description": "Pay now"},
    ],
    "primary_goal": "order-completed",
    "secondary_goals": ["revenue"],
}


def define_order_goals(session: Session) -> None:
    """The analytics goals the demo's experiments read (orders and revenue), once."""
    known = set(session.scalars(select(Goal.key)))
    if "order-completed" not in known:
        define_goal(
            session=session,
            key="order-completed",
            name="Completed orders",
            event="Order Completed",
            window_days=WINDOW_DAYS,
            actor=ACTOR,
        )
    if "revenue" not in known:
        define_goal(
            session=session,
            key="revenue",
            name="Revenue",
            event="Order Completed",
            value_property="revenue",
            window_days=WINDOW_DAYS,
            actor=ACTOR,
        )


def act(world: World, progress: Callable[[int, int], None]) -> None:
    with world.sessions() as session, session.begin():
        define_order_goals(session)
        if session.scalar(select(Experiment.id).where(Experiment.key == KEY)) is not None:
            return
        create_experiment(session=session, definition=parse_definition(DEFINITION), actor=ACTOR)
        experiment = start_experiment(session=session, key=KEY, actor=ACTOR)
        experiment.started_at = world.clock.at(world.clock.days - DAYS)  # on the simulated clock

    rng = world.rng("experiments")
    first_day = world.clock.days - DAYS
    folder = world.work_dir / "experiments"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "web-shop-experiment.jsonl"
    count = 0
    try:
        with path.open("wb") as handle:
            for person, _ids in world.everyone_with_profiles():
                if not person.web or not person.user_id:
                    continue
                start = max(first_day, person.signup_day + 1)
                if start >= world.clock.days - 1 or rng.random() < 0.5:
                    continue  # not signed up in time, or not at the checkout in these days
                variant = "control" if rng.random() < 0.5 else "pay-now"
                seen = world.clock.at(int(rng.uniform(start, world.clock.days - 1)), 12)
                seen += timedelta(minutes=rng.uniform(0, 600))
                events: list[tuple[datetime, str, dict[str, object]]] = [
                    (
                        seen,
                        "Experiment Viewed",
                        {"experiment_id": KEY, "variation_id": variant},
                    )
                ]
                if rng.random() < TRUE_RATE[variant]:
                    ordered = seen + timedelta(days=rng.uniform(0, WINDOW_DAYS))
                    if ordered < world.clock.end:
                        revenue = round(rng.uniform(9, 400), 2)
                        events.append(
                            (ordered, "Order Completed", {"revenue": revenue, "currency": "EUR"})
                        )
                for at, name, properties in events:
                    event = {
                        "type": "track",
                        "userId": person.user_id,
                        "event": name,
                        "properties": properties,
                        "timestamp": at.isoformat().replace("+00:00", "Z"),
                        "messageId": f"demo-{world.seed}-experiment-{count}",
                    }
                    handle.write(orjson.dumps(event) + b"\n")
                    count += 1
                injected = world.injected.setdefault(person.index, Counter())
                injected[f"experiment:{KEY}:{variant}"] += 1
        with world.sessions() as session, session.begin():
            source = get_or_create_source(
                session=session, name="web shop", channel=SourceChannel.web, actor=ACTOR
            )
            session.expunge(source)
        done = 0

        def advance(more: int) -> None:
            nonlocal done
            done += more
            progress(done, count)

        report = import_file(
            sessions=world.sessions,
            path=path,
            source=source,
            rules=world.rules,
            defaults=world.defaults,
            progress=advance,
        )
        world.counts["experiment events"] += report.accepted
    finally:
        shutil.rmtree(folder, ignore_errors=True)
