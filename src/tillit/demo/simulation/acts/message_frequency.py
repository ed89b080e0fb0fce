"""A second running experiment, this one harmful, so the demo shows a guardrail at work.

The company tests how often it writes (``message-frequency``): everyone who has agreed to be
written to (marketing, research or personalisation consent) is served, through Tillit's own
assignment (``assign``, via ``campaign``, half and half by the experiment's hash, salted with
the seed so the same seed serves the same variants), either the messages they get now
(``control``: a newsletter now and then, a survey after an order) or a message every day on
each purpose they agreed to (``daily``: offers, surveys, picks for them).
A person is exposed on the day their first message of the test goes out: within the test's
first two weeks, or the day after they join if that is later. The test runs with
``auto_stop`` on, so the jobs process's experiments round stops it by itself once one of the
customer's guardrails shows harm.

The latent truth: the daily messages make people unsubscribe. Within 13 days of their first
test message a person in ``daily`` follows a message's one-click unsubscribe link
(``purpose:<the purpose>``, through the consent service) with probability 0.3, on top of the
withdrawals and unsubscribes everybody makes anyway (the consent act's, alike in both
variants). Nothing else differs, orders included. So the harmful variant is ``daily`` and the
guardrail that shows it is ``unsubscribes`` (``consent-withdrawals``, which counts every
withdrawal, rises with it). The effect is that large because the small demo has a few hundred
people and the always-valid interval is wide there; the default demo would show a smaller one.

In the truth file each exposed person's variant is in ``injected``
(``experiment:message-frequency:<variant>``), and a person the daily messages made
unsubscribe also has ``guardrail:message-frequency:unsubscribes``.

The act runs right after the consents and before the newsletters, campaigns and dialogues, so
those go through the contact policy knowing who unsubscribed (no message after a withdrawal).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent.evidence import Evidence
from tillit.consent.unsubscribe import apply_unsubscribe, resolve_unsubscribe, unsubscribe_token
from tillit.demo.simulation.acts.experiments import define_order_goals
from tillit.demo.simulation.population import Person
from tillit.demo.simulation.world import ACTOR, World
from tillit.experiments.assignment import assign
from tillit.experiments.definitions import parse_definition
from tillit.experiments.models import Experiment
from tillit.experiments.service import create_experiment, start_experiment

KEY = "message-frequency"
DAYS = 60  # the test began this many days before the simulation's end
ROLLOUT_DAYS = 14  # everyone's first test message goes out within the first two weeks
HARMFUL = "daily"  # the variant that harms the customer
GUARDRAIL = "unsubscribes"  # the customer's guardrail that shows it
UNSUBSCRIBE_CHANCE = {"control": 0.0, HARMFUL: 0.3}  # beyond everybody's, within 13 days
HARM_DAYS = 13.0  # inside the guardrail's 14-day window
PURPOSES = ("marketing", "research", "personalisation")  # what the messages are sent for
BATCH = 200  # people per transaction
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0 (Tillit demo)"
DEFINITION = {
    "key": KEY,
    "name": "How often we write",
    "hypothesis": "Writing every day instead of now and then raises completed orders.",
    "variants": [
        {"key": "control", "weight": 1, "description": "Now and then"},
        {"key": HARMFUL, "weight": 1, "description": "Every day"},
    ],
    "primary_goal": "order-completed",
    "auto_stop": True,
}


def act(world: World, progress: Callable[[int, int], None]) -> None:
    first_day = max(world.clock.days - DAYS, 0)
    with world.sessions() as session, session.begin():
        define_order_goals(session)
        if session.scalar(select(Experiment.id).where(Experiment.key == KEY)) is not None:
            return
        # A salt from the seed: the hash then serves everyone the same variant in every run.
        definition = parse_definition({**DEFINITION, "salt": f"demo-{world.seed}"})
        create_experiment(session=session, definition=definition, actor=ACTOR)
        experiment = start_experiment(session=session, key=KEY, actor=ACTOR)
        experiment.started_at = world.clock.at(first_day)  # on the simulated clock

    rng = world.rng("message frequency")
    last_day = world.clock.days - 15  # so everyone's 14 days after exposure are simulated
    people = []
    for person, _ids in world.everyone_with_profiles():
        day = max(first_day + rng.uniform(0, ROLLOUT_DAYS), person.joined_day + 1)
        if day < last_day and _agreed(person, day):
            people.append((person, world.clock.at(day, 9.5)))
    for start in range(0, len(people), BATCH):
        with world.sessions() as session, session.begin():
            for person, at in people[start : start + BATCH]:
                _expose(world, session, rng, person, at)
        progress(min(start + BATCH, len(people)), len(people))


def _expose(
    world: World, session: Session, rng: random.Random, person: Person, at: datetime
) -> None:
    primary = world.primary(person)
    assert primary is not None  # everyone_with_profiles has a profile
    served = assign(session=session, key=KEY, customer_id=primary, via="campaign", at=at)
    if served.variant is None:
        return
    world.counts["message test exposures"] += 1
    injected = world.injected.setdefault(person.index, Counter())
    injected[f"experiment:{KEY}:{served.variant}"] += 1
    if rng.random() >= UNSUBSCRIBE_CHANCE[served.variant]:
        return
    purpose = _leaves(person)
    when = at + timedelta(days=rng.uniform(0.2, HARM_DAYS))
    if purpose and _unsubscribe(world, session, served.customer_id, purpose, when):
        world.counts["message test unsubscribes"] += 1
        injected[f"guardrail:{KEY}:{GUARDRAIL}"] += 1


def _agreed(person: Person, day: float) -> bool:
    """Whether the person may be written to on ``day`` for one of the purposes: granted when
    they joined, and marketing not withdrawn or unsubscribed (the consent act's days) before."""
    left = [d for d in (person.withdraws_marketing_day, person.unsubscribes_day) if d is not None]
    marketing = person.consents["marketing"] and not any(d <= day for d in left)
    return marketing or person.consents["research"] or person.consents["personalisation"]


def _leaves(person: Person) -> str | None:
    """The purpose whose messages the person unsubscribes from: marketing first, unless the
    consent act has them leave it later anyway (that withdrawal is already their latest record,
    so an unsubscribe now would change nothing)."""
    later = [d for d in (person.withdraws_marketing_day, person.unsubscribes_day) if d is not None]
    if person.consents["marketing"] and not later:
        return "marketing"
    for purpose in PURPOSES[1:]:
        if person.consents[purpose]:
            return purpose
    return None


def _unsubscribe(
    world: World, session: Session, customer_id: int, purpose: str, at: datetime
) -> bool:
    secret = world.settings.secret_key
    token = unsubscribe_token(
        session=session, customer_id=customer_id, scope=f"purpose:{purpose}", secret_key=secret
    )
    entry = resolve_unsubscribe(session=session, token=token, secret_key=secret)
    return apply_unsubscribe(
        session=session, entry=entry, evidence=Evidence(user_agent=BROWSER), actor=ACTOR, at=at
    )
