"""Realistic, fictional customers across Denmark, Sweden, Norway, the Netherlands and the UK.

Deterministic for a seed; streams rows, so it can make millions for benchmarks without holding
them. Rows have the same columns as the CSV import, so demo data and imports share one path.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator

import phonenumbers

from tillit.demo.people import COUNTRIES, Country

COLUMNS = (
    "name",
    "email",
    "phone",
    "user_id",
    "loyalty_card",
    "locale",
    "time_zone",
    "country",
    "trait.city",
    "trait.birth_year",
    "trait.loyalty_tier",
    "trait.signup_channel",
)
# Mixed ASCII folding so e-mail local parts look like what people really type.
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
SIGNUP_CHANNELS = ("web", "app", "store", "email", "social", "chat")
TIERS = ("none", "none", "bronze", "silver", "gold")


def ascii_fold(text: str) -> str:
    text = text.lower().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if ch.isalnum() or ch == ".")


def typo(rng: random.Random, text: str) -> str:
    """One slip a person or an old till makes: two letters swapped, one dropped, a diacritic
    lost."""
    if len(text) < 3:
        return text
    i = rng.randrange(len(text) - 1)
    kind = rng.random()
    if kind < 0.4:  # swap two letters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind < 0.7:  # drop one
        return text[:i] + text[i + 1 :]
    # a diacritic lost on the way through an old till: ø → o, ä → a
    plain = str.maketrans("æøåäöüéÆØÅÄÖÜ", "aoaaoueAOAAOU")
    return text.translate(plain) if text != text.translate(plain) else text[:i] + text[i:].upper()


def generate_customers(count: int, *, seed: int = 2010) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    weights = (24, 24, 18, 20, 14)  # a Nordic company with Dutch and British customers
    for index in range(count):
        country = rng.choices(COUNTRIES, weights)[0]
        yield _customer(rng, country, index)


def _customer(rng: random.Random, country: Country, index: int) -> dict[str, str]:
    given, family = rng.choice(country.given), rng.choice(country.family)
    separator = rng.choice((".", "", "_"))
    local = f"{ascii_fold(given)}{separator}{ascii_fold(family).replace(' ', '')}{index}"
    has_app = rng.random() < 0.45
    return {
        "name": f"{given} {family}",
        "email": f"{local}@example.com",
        "phone": valid_phone(rng, country) if rng.random() < 0.8 else "",
        "user_id": f"u{index:08d}" if has_app else "",
        "loyalty_card": f"TL{index:010d}" if rng.random() < 0.35 else "",
        "locale": country.locale,
        "time_zone": country.time_zone,
        "country": country.code,
        "trait.city": rng.choice(country.cities),
        "trait.birth_year": str(rng.randint(1940, 2007)),
        "trait.loyalty_tier": rng.choice(TIERS),
        "trait.signup_channel": rng.choice(SIGNUP_CHANNELS),
    }


def valid_phone(rng: random.Random, country: Country) -> str:
    """A random number in the country's mobile range that the numbering plan accepts."""
    while True:
        digits = "".join(rng.choice("0123456789") for _ in range(country.phone_digits))
        candidate = f"{country.phone_prefix}{digits}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
