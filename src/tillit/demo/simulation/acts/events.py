"""A year of behaviour on six channels, written as Segment-format event files and loaded
through the bulk event importer (one file per source), as a company's own trackers would.

Web visitors browse anonymously, then sign up (an identify that stitches their earlier
visits); apps, tills, the e-mail and SMS services and social log-ins each identify people by
the key they know. Viewed and bought categories follow each person's latent interests. Some
visitors never identify, and some trackers send junk identifiers (``null``, ``test@``)."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tillit.demo.simulation.population import CATEGORIES, Person
from tillit.demo.simulation.world import ACTOR, World
from tillit.events.importing import import_file
from tillit.events.sources import get_or_create_source
from tillit.vocabulary import SourceChannel

SOURCES = {
    "web shop": SourceChannel.web,
    "app": SourceChannel.app,
    "store": SourceChannel.store,
    "email": SourceChannel.email,
    "sms": SourceChannel.sms,
    "social": SourceChannel.social,
}
JUNK_IDS = ("null", "undefined", "0", "guest", "[object Object]")
JUNK_EMAILS = ("test@example.com", "noreply@example.com", "email@example.com")
Event = dict[str, Any]


class Writer:
    """Writes each source's events to its file as they are made, so a benchmark-sized
    population never has its events in memory. Each person's events on a source are in time
    order; the importer stitches a visit stored before the identify that names its visitor."""

    def __init__(self, world: World, folder: Path) -> None:
        self.world = world
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = {name: folder / f"{name.replace(' ', '-')}.jsonl" for name in SOURCES}
        self.files = {name: path.open("wb") for name, path in self.paths.items()}
        self.counts: Counter[str] = Counter()

    def add(self, source: str, at: datetime, event: Event, person: Person | None = None) -> None:
        event["timestamp"] = at.isoformat().replace("+00:00", "Z")
        event["messageId"] = (
            f"demo-{self.world.seed}-{source.replace(' ', '-')}-{self.counts[source]}"
        )
        self.counts[source] += 1
        self.files[source].write(orjson.dumps(event) + b"\n")
        if person is not None:
            injected = self.world.injected.setdefault(person.index, Counter())
            injected[f"channel:{SOURCES[source]}"] += 1
            category = event.get("properties", {}).get("category")
            if category:
                injected[f"category:{category}"] += 1

    def close(self) -> dict[str, Path]:
        for handle in self.files.values():
            handle.close()
        return self.paths


def act(world: World, progress: Callable[[int, int], None]) -> None:
    folder = world.work_dir / "events"
    try:
        writer = Writer(world, folder)
        rng = world.rng("events")
        try:
            for person in world.people:
                _life(writer, rng, world, person)
            _strangers(writer, world.rng("events:strangers"), world)
        finally:
            paths = writer.close()
        _import(world, paths, sum(writer.counts.values()), progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the files held names and e-mail addresses


def _import(
    world: World, paths: dict[str, Path], total: int, progress: Callable[[int, int], None]
) -> None:
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    for source, path in paths.items():
        with world.sessions() as session, session.begin():
            found = get_or_create_source(
                session=session, name=source, channel=SOURCES[source], actor=ACTOR
            )
            session.expunge(found)
        report = import_file(
            sessions=world.sessions,
            path=path,
            source=found,
            rules=world.rules,
            defaults=world.defaults,
            progress=advance,
        )
        world.counts["events"] += report.accepted
        world.counts["events rejected"] += len(report.rejected)


def _visits(rng: random.Random, world: World, person: Person, share: float) -> Iterator[float]:
    """Days of visits, from the day the person joined (or the first day) to the last."""
    first = max(person.joined_day, 0.0)
    months = max(world.clock.days - first, 0) / 30.4
    count = int(person.activity * months * share + rng.random())
    return iter(sorted(rng.uniform(first, world.clock.days) for _ in range(count)))


def _when(rng: random.Random, world: World, day: float) -> datetime:
    return world.clock.at(int(day), rng.uniform(7, 21))  # daytime, roughly local


def _category(rng: random.Random, person: Person) -> str:
    return rng.choices(CATEGORIES, [person.interests[c] for c in CATEGORIES])[0]


def _life(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    if person.web:
        _web(writer, rng, world, person)
        if person.has_app:
            _app(writer, rng, world, person)
    if person.store:
        _store(writer, rng, world, person)
    _email(writer, rng, world, person)  # a duplicate's e-mail reaches their web profile
    if person.sms and person.phone and person.kind != "duplicate":
        _sms(writer, rng, world, person)
    if person.social:
        _social(writer, rng, world, person)


def _web_traits(person: Person) -> dict[str, Any]:
    twin = person.web_twin
    traits = {
        "email": person.email,
        "firstName": twin.get("first_name", person.given) if twin else person.given,
        "lastName": twin.get("last_name", person.family) if twin else person.family,
        "birthday": twin.get("birth_date") if twin else person.birth_date,
        "postcode": twin.get("postcode") if twin else person.postcode,
        "city": person.city,
        "country": person.country,
    }
    if person.phone and person.kind != "duplicate":  # a duplicate shares no key
        traits["phone"] = person.phone
    return {k: v for k, v in traits.items() if v}


def _web(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    device = f"web-{world.seed}-{person.index}"
    identified = False
    for day in _visits(rng, world, person, 0.9):
        at = _when(rng, world, day)
        ids: dict[str, str] = {"anonymousId": device}
        if day >= person.signup_day and not identified:
            writer.add(
                "web shop",
                at,
                {
                    "type": "identify",
                    **ids,
                    "userId": person.user_id,
                    "traits": _web_traits(person),
                },
                person,
            )
            identified = True
        if identified:
            ids["userId"] = person.user_id or ""
        category = _category(rng, person)
        writer.add("web shop", at, {"type": "page", **ids, "name": category}, person)
        for _ in range(rng.randint(1, 3)):
            writer.add(
                "web shop",
                at,
                {
                    "type": "track",
                    **ids,
                    "event": "Product Viewed",
                    "properties": {"category": _category(rng, person)},
                },
                person,
            )
        # Browse -> cart -> checkout -> order: every order goes through the cart and the
        # checkout a few minutes after the views; some carts and checkouts are left. Decided
        # without a draw, so the year's other draws (and its orders) stay as they were.
        ordering = identified and rng.random() < 0.15
        abandons = (person.index * 31 + int(day * 10)) % 4 == 0
        if ordering or abandons:
            checkout = ordering or (person.index + int(day)) % 2 == 0
            _cart(writer, person, "web shop", at, ids, checkout)
        if ordering:
            _order(writer, rng, world, person, "web shop", at + CART_TO_ORDER, ids, category)


CART_TO_ORDER = timedelta(minutes=9)


def _cart(
    writer: Writer, person: Person, source: str, at: datetime, ids: dict[str, str], checkout: bool
) -> None:
    steps = ["Product Added", "Checkout Started"] if checkout else ["Product Added"]
    for minutes, name in zip((3, 6), steps, strict=False):
        event = {"type": "track", **ids, "event": name}
        writer.add(source, at + timedelta(minutes=minutes), event, person)


def _order(
    writer: Writer,
    rng: random.Random,
    world: World,
    person: Person,
    source: str,
    at: datetime,
    ids: dict[str, str],
    category: str,
) -> None:
    properties = {
        "order_id": f"o{world.seed}-{len(world.orders)}",
        "category": category,
        "revenue": round(rng.uniform(9, 400), 2),
        "currency": "EUR",
    }
    writer.add(
        source,
        at,
        {"type": "track", **ids, "event": "Order Completed", "properties": properties},
        person,
    )
    world.orders.append((person.index, at, source != "store"))


def _app(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    for day in _visits(rng, world, person, 0.6):
        if day < person.signup_day:
            continue  # the app needs an account
        at = _when(rng, world, day)
        ids = {"userId": person.user_id or "", "anonymousId": f"app-{world.seed}-{person.index}"}
        writer.add("app", at, {"type": "track", **ids, "event": "Application Opened"}, person)
        category = _category(rng, person)
        writer.add(
            "app",
            at,
            {"type": "screen", **ids, "name": "Product", "properties": {"category": category}},
            person,
        )
        if rng.random() < 0.1:
            _order(writer, rng, world, person, "app", at, ids, category)


def _store(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    till = {"anonymousId": f"pos-{person.loyalty_card}"}
    first = True
    for day in _visits(rng, world, person, 0.35):
        at = _when(rng, world, day)
        if first:  # the card is scanned: the till's id now belongs to the card's holder
            traits = {"loyalty_card": person.loyalty_card}
            writer.add("store", at, {"type": "identify", **till, "traits": traits}, person)
            first = False
        _order(writer, rng, world, person, "store", at, till, _category(rng, person))


def _email(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    if not person.consents["marketing"]:
        return
    reader = {"anonymousId": f"esp-{world.seed}-{person.index}"}
    start = max(person.joined_day, 0.0)
    writer.add(
        "email",
        world.clock.at(int(start), 6),
        {"type": "identify", **reader, "traits": {"email": person.email}},
        person,
    )
    for month in range(int(start / 30.4) + 1, int(world.clock.days / 30.4)):
        if rng.random() < 0.45:
            at = world.clock.at(month * 30.4 + rng.uniform(0, 3), rng.uniform(6, 22))
            category = _category(rng, person)
            for name in ("Email Opened", "Email Link Clicked")[: rng.randint(1, 2)]:
                writer.add(
                    "email",
                    at,
                    {
                        "type": "track",
                        **reader,
                        "event": name,
                        "properties": {"category": category},
                    },
                    person,
                )


def _sms(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    number = {"anonymousId": f"sms-{world.seed}-{person.index}"}
    start = max(person.joined_day, 0.0)
    writer.add(
        "sms",
        world.clock.at(int(start), 9),
        {"type": "identify", **number, "traits": {"phone": person.phone}},
        person,
    )
    for day in _visits(rng, world, person, 0.1):
        writer.add(
            "sms",
            _when(rng, world, day),
            {"type": "track", **number, "event": "SMS Link Clicked"},
            person,
        )


def _social(writer: Writer, rng: random.Random, world: World, person: Person) -> None:
    handle = f"instagram:{person.email.split('@')[0]}"
    login = {"anonymousId": f"soc-{world.seed}-{person.index}"}
    days = list(_visits(rng, world, person, 0.15))
    if not days:
        return
    writer.add(
        "social",
        _when(rng, world, days[0]),
        {"type": "identify", **login, "traits": {"email": person.email, "social_handle": handle}},
        person,
    )
    for day in days:
        name = rng.choice(("Post Liked", "Story Viewed", "Comment Posted"))
        event = {"type": "track", **login, "event": name}
        writer.add("social", _when(rng, world, day), event, person)


def _strangers(writer: Writer, rng: random.Random, world: World) -> None:
    """Visitors who never identify, and trackers that send junk identifiers."""
    for n in range(len(world.people) // 3):
        device = f"anon-{world.seed}-{n}"
        for _ in range(rng.randint(1, 4)):
            at = _when(rng, world, rng.uniform(0, world.clock.days))
            writer.add("web shop", at, {"type": "page", "anonymousId": device, "name": "home"})
    for n in range(max(3, len(world.people) // 100)):
        at = _when(rng, world, rng.uniform(0, world.clock.days))
        junk = {"anonymousId": rng.choice(JUNK_IDS), "userId": rng.choice(JUNK_IDS)}
        writer.add("web shop", at, {"type": "identify", **junk, "traits": {}})
        email = {"anonymousId": f"junk-{world.seed}-{n}"}
        writer.add(
            "web shop",
            at,
            {"type": "identify", **email, "traits": {"email": rng.choice(JUNK_EMAILS)}},
        )
