"""Consents and preferences as customers give and change them: grants (and a "no" to
marketing) when they join, later withdrawals in the preference centre, one-click
unsubscribes, pauses, chosen topics and quiet hours, and Global Privacy Control signals.
Each goes through the consent ledger and preference services, at its simulated time."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tillit.consent.evidence import Evidence
from tillit.consent.gpc import honour_gpc
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.consent.unsubscribe import apply_unsubscribe, resolve_unsubscribe, unsubscribe_token
from tillit.demo.simulation.population import Person
from tillit.demo.simulation.world import ACTOR, World
from tillit.vocabulary import OutboundChannel

BATCH = 200  # people per transaction
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0 (Tillit demo)"
ALL_CHANNELS = {str(channel): True for channel in OutboundChannel}
Step = tuple[datetime, str, Callable[[Session], Any]]


def act(world: World, progress: Callable[[int, int], None]) -> None:
    rng = world.rng("consent")
    people = world.everyone_with_profiles()
    for start in range(0, len(people), BATCH):
        with world.sessions() as session, session.begin():
            for person, ids in people[start : start + BATCH]:
                for customer_id in ids:
                    steps = sorted(_steps(world, rng, person, customer_id), key=lambda s: s[0])
                    for _, what, run in steps:
                        if run(session) is not None:
                            world.counts[what] += 1
        progress(min(start + BATCH, len(people)), len(people))


def _steps(world: World, rng: random.Random, person: Person, customer_id: int) -> Iterator[Step]:
    web_profile = person.kind == "web" or (
        person.kind == "duplicate" and customer_id != world.primary(person)
    )
    channel = "web" if web_profile else "store"
    joined = world.clock.at(person.joined_day, rng.uniform(8, 20))
    yield from _grants(person, customer_id, channel, joined)
    if web_profile:  # the web shop asks for a language; the till took it from the country
        yield _preferences(customer_id, joined, {"language": person.language})
    if rng.random() < 0.4:
        yield _preferences(customer_id, joined, {"topics": person.topics})
    if rng.random() < 0.1:
        yield _preferences(customer_id, joined, {"quiet_hours": {"start": "21:00", "end": "08:00"}})
    if rng.random() < 0.08:
        yield _preferences(customer_id, joined, {"channels": {**ALL_CHANNELS, "sms": False}})
    yield from _later(world, rng, person, customer_id)


def _later(world: World, rng: random.Random, person: Person, customer_id: int) -> Iterator[Step]:
    def when(day: float | None) -> datetime | None:
        if day is None or day < person.joined_day:
            return None
        return world.clock.at(day, rng.uniform(7, 22))

    marketing = person.consents["marketing"]
    if marketing and (at := when(person.withdraws_marketing_day)):
        yield (
            at,
            "consents withdrawn",
            _record(customer_id, "marketing", ConsentDecision.withdrawn, at),
        )
    elif marketing and (at := when(person.unsubscribes_day)):
        scope = rng.choice(("purpose:marketing", "topic:offers"))
        yield at, "unsubscribes", _unsubscribe(world, customer_id, scope, at)
    if at := when(person.pauses_day):
        until = (at + timedelta(days=rng.randint(20, 75))).date().isoformat()
        yield _preferences(customer_id, at, {"paused_until": until}, "pauses")
    if person.consents["partner_sharing"] and (at := when(person.gpc_day)):
        yield at, "gpc withdrawals", _gpc(customer_id, at)


def _grants(person: Person, customer_id: int, channel: str, at: datetime) -> Iterator[Step]:
    for purpose, granted in person.consents.items():
        if granted:
            yield (
                at,
                "consents granted",
                _record(customer_id, purpose, ConsentDecision.granted, at, channel),
            )
        elif purpose == "marketing":  # the sign-up form's box left unticked
            yield (
                at,
                "consents denied",
                _record(customer_id, purpose, ConsentDecision.denied, at, channel),
            )


def _record(
    customer_id: int, purpose: str, decision: ConsentDecision, at: datetime, channel: str = "web"
) -> Callable[[Session], Any]:
    method = Method.form if decision is not ConsentDecision.withdrawn else Method.preference_centre
    return lambda session: record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key=purpose,
        decision=decision,
        method=method,
        actor=ACTOR,
        channel=channel,
        evidence=Evidence(user_agent=BROWSER),
        at=at,
    )


def _preferences(
    customer_id: int, at: datetime, changes: dict[str, Any], what: str = "preference changes"
) -> Step:
    def run(session: Session) -> Any:
        return update_preferences(
            session=session,
            customer_id=customer_id,
            changes=changes,
            method=str(Method.preference_centre),
            actor=ACTOR,
            now=at,
        )

    return at, what, run


def _unsubscribe(
    world: World, customer_id: int, scope: str, at: datetime
) -> Callable[[Session], Any]:
    def run(session: Session) -> bool | None:
        secret = world.settings.secret_key
        token = unsubscribe_token(
            session=session, customer_id=customer_id, scope=scope, secret_key=secret
        )
        entry = resolve_unsubscribe(session=session, token=token, secret_key=secret)
        done = apply_unsubscribe(
            session=session, entry=entry, evidence=Evidence(user_agent=BROWSER), actor=ACTOR, at=at
        )
        return done or None

    return run


def _gpc(customer_id: int, at: datetime) -> Callable[[Session], Any]:
    return lambda session: honour_gpc(
        session=session,
        customer_id=customer_id,
        evidence=Evidence(user_agent=BROWSER, gpc=True),
        actor=ACTOR,
        at=at,
    )
