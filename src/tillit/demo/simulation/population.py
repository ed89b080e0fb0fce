"""The simulated people and their latent truth: who they are, which systems know them, what
they care about and how they feel. The acts turn this truth into what the company observes
(events, consents, answers); only the truth file keeps it, for evaluation."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from tillit.demo.generator import ascii_fold, typo, valid_phone
from tillit.demo.people import COUNTRIES, Country
from tillit.demo.simulation.rng import stream

CATEGORIES = ("outdoor", "kitchen", "fashion", "kids", "garden", "electronics", "beauty", "books")
TOPICS = ("offers", "news", "events", "product_updates", "tips")  # the consent catalogue's
COUNTRY_WEIGHTS = (24, 24, 18, 20, 14)  # DK, SE, NO, NL, GB: as the customer generator
LANGUAGES = {"DK": "da", "SE": "sv", "NO": "nb", "NL": "nl", "GB": "en"}


@dataclass(slots=True)  # a benchmark run holds a million
class Person:
    """One simulated person. ``kind`` says which systems know them: ``linked`` (the store's
    loyalty record carries their web account: one profile), ``store``, ``web``, or
    ``duplicate`` (a store record and a web account sharing no key: two profiles)."""

    index: int
    kind: str
    country: str
    locale: str
    time_zone: str
    language: str
    given: str
    family: str
    birth_date: str
    city: str
    postcode: str
    email: str
    phone: str | None
    user_id: str | None
    loyalty_card: str | None
    has_app: bool
    sms: bool
    social: bool
    joined_day: float  # when the company first hears of them
    signup_day: float  # when an anonymous web visitor identifies (stitching)
    activity: float  # visits per month
    interests: dict[str, float]  # product category -> weight, summing to 1
    topics: list[str]  # the newsletter topics they would choose
    satisfaction: float  # mean NPS score, 0 to 10
    responsiveness: float  # chance of answering a question
    consents: dict[str, bool]  # purpose -> granted at joining
    withdraws_marketing_day: float | None
    pauses_day: float | None
    unsubscribes_day: float | None
    gpc_day: float | None
    web_twin: dict[str, str | None] = field(default_factory=dict)  # duplicates: web shop view

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}"

    @property
    def web(self) -> bool:
        return self.kind in ("linked", "web", "duplicate")

    @property
    def store(self) -> bool:
        return self.kind in ("linked", "store", "duplicate")

    def truth(self) -> dict[str, Any]:
        return asdict(self)


def build_population(count: int, *, seed: int, days: int) -> list[Person]:
    rng = stream(seed, "population")
    countries = rng.choices(COUNTRIES, COUNTRY_WEIGHTS, k=count)
    return [_person(rng, index, country, days) for index, country in enumerate(countries)]


def _person(rng: random.Random, index: int, country: Country, days: int) -> Person:
    given, family = rng.choice(country.given), rng.choice(country.family)
    kind = rng.choices(("linked", "store", "web", "duplicate"), (30, 25, 33, 12))[0]
    local = f"{ascii_fold(given)}{rng.choice(('.', '', '_'))}{ascii_fold(family)}{index}"
    city_index = rng.randrange(len(country.cities))
    birth = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 60))
    # Most people were customers before the year began; some join during it.
    joined = -rng.uniform(0, 400) if rng.random() < 0.7 else rng.uniform(0, days * 0.95)
    weights = [rng.gammavariate(0.6, 1) for _ in CATEGORIES]
    total = sum(weights) or 1.0
    person = Person(
        index=index,
        kind=kind,
        country=country.code,
        locale=country.locale,
        time_zone=country.time_zone,
        language=LANGUAGES[country.code],
        given=given,
        family=family,
        birth_date=birth.isoformat(),
        city=country.cities[city_index],
        postcode=_postcode(country.code, city_index, rng.randrange(4)),
        email=f"{local.replace(' ', '')}@example.com",
        phone=valid_phone(rng, country) if rng.random() < 0.8 else None,
        user_id=f"u{index:07d}" if kind in ("linked", "web", "duplicate") else None,
        loyalty_card=f"TL{index:010d}" if kind in ("linked", "store", "duplicate") else None,
        has_app=rng.random() < 0.45,
        sms=rng.random() < 0.4,
        social=rng.random() < 0.25,
        joined_day=joined,
        signup_day=max(joined, 0) + rng.uniform(0, 20),
        activity=rng.lognormvariate(0.6, 0.7),
        interests={c: round(w / total, 4) for c, w in zip(CATEGORIES, weights, strict=True)},
        topics=sorted(rng.sample(TOPICS, rng.randint(1, 3))),
        satisfaction=min(10.0, max(0.0, rng.gauss(7.6, 2.2))),
        responsiveness=rng.uniform(0.15, 0.7),
        consents={
            "marketing": rng.random() < 0.62,
            "personalisation": rng.random() < 0.3,
            "research": rng.random() < 0.7,
            "partner_sharing": rng.random() < 0.18,
        },
        withdraws_marketing_day=_sometime(rng, 0.08, days),
        pauses_day=_sometime(rng, 0.04, days),
        unsubscribes_day=_sometime(rng, 0.05, days),
        gpc_day=_sometime(rng, 0.3, days),  # used only where partner sharing was granted
    )
    if kind == "duplicate":
        person.web_twin = _web_twin(rng, person)
    return person


def _sometime(rng: random.Random, chance: float, days: int) -> float | None:
    return rng.uniform(days * 0.1, days * 0.98) if rng.random() < chance else None


def _postcode(country: str, city: int, area: int) -> str:
    """A few postcodes per city, so people share them as neighbours do."""
    number = 1000 + city * 700 + area * 13
    if country == "SE":
        return f"{number // 10 * 10:03d} {number % 100:02d}"[-6:]
    if country == "NL":
        return f"{number} {'ABCD'[area]}{'KLMN'[city % 4]}"
    if country == "GB":
        return f"{'EMBLSC'[city % 6]}{city + 1} {area + 1}{'ABD'[area % 3]}{'XYZ'[city % 3]}"
    return str(number)


def _web_twin(rng: random.Random, person: Person) -> dict[str, str | None]:
    """How the web shop knows a person the store knows too: typed by themselves, with typos,
    an old postcode, or without a birthday; never the store's card or phone number."""
    twin: dict[str, str | None] = {
        "first_name": person.given,
        "last_name": person.family,
        "birth_date": person.birth_date,
        "postcode": person.postcode,
    }
    for name in ("first_name", "last_name"):
        if rng.random() < 0.35:
            twin[name] = typo(rng, twin[name] or "")
    if rng.random() < 0.4:
        twin["postcode"] = None  # moved, or never asked for
    if rng.random() < 0.35:
        twin["birth_date"] = None
    return twin
