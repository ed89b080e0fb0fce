"""Fictional people seen by two systems (a store's tills and a web shop) with typos, for
measuring probabilistic matching: every record carries the true person id it came from."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tillit.demo.generator import typo

FIRST = {
    "da": ["Søren", "Mette", "Jørgen", "Åse", "Kasper", "Freja", "Mikkel", "Ida", "Bjørn", "Line"],
    "sv": ["Åsa", "Björn", "Märta", "Göran", "Linnéa", "Örjan", "Karin", "Nils", "Elin", "Sven"],
    "nb": ["Øyvind", "Ingrid", "Håkon", "Kjersti", "Åge", "Solveig", "Torbjørn", "Siri", "Eirik"],
    "nl": ["Joost", "Anouk", "Maarten", "Lieke", "Sjoerd", "Femke", "Bram", "Eva", "Daan"],
    "en": ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Thomas"],
}
LAST = {
    "da": ["Jørgensen", "Sørensen", "Møller", "Kjær", "Læsø", "Nielsen", "Østergaard", "Bæk"],
    "sv": ["Åberg", "Lindström", "Söderberg", "Källström", "Öhman", "Ekström", "Sjögren"],
    "nb": ["Søvik", "Haugen", "Ødegård", "Bråten", "Kværne", "Løvås", "Fjærli", "Strøm"],
    "nl": ["de Vries", "van Dijk", "Bakker", "Müller", "Janssen", "van den Berg", "Visser"],
    "en": ["Smith", "Brown", "O'Connor", "Wilson", "Taylor", "Davies", "Evans", "Hughes"],
}
FIELDS = ("first_name", "last_name", "birth_date", "postcode", "phone")


@dataclass(frozen=True)
class Record:
    record_id: str
    person: int
    first_name: str | None
    last_name: str | None
    birth_date: str | None
    postcode: str | None
    phone: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"unique_id": self.record_id, **{f: getattr(self, f) for f in FIELDS}}


def _transpose(rng: random.Random, digits: str) -> str:
    i = rng.randrange(3, len(digits) - 1)
    return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]


def people(count: int, *, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        language = rng.choice(list(FIRST))
        out.append(
            {
                "first_name": rng.choice(FIRST[language]),
                "last_name": rng.choice(LAST[language]),
                "birth_date": f"{rng.randint(1940, 2006)}-{rng.randint(1, 12):02}"
                f"-{rng.randint(1, 28):02}",
                "postcode": str(rng.randint(1000, 9999)),
                "phone": f"+45{rng.randint(20_000_000, 99_999_999)}",
            }
        )
    return out


def two_systems(
    count: int, *, overlap: float = 0.5, seed: int = 7
) -> tuple[list[Record], list[Record]]:
    """``count`` people in the store system; ``overlap`` of them also in the web shop (with
    typos, transposed phone digits, missing fields), plus as many web-only people."""
    rng = random.Random(seed + 1)
    everyone = people(count + int(count * overlap), seed=seed)
    store = [_record(rng, f"s{i}", i, p, noisy=False) for i, p in enumerate(everyone[:count])]
    shared = rng.sample(range(count), int(count * overlap))
    web = [_record(rng, f"w{i}", i, everyone[i], noisy=True) for i in shared]
    web += [_record(rng, f"w{i}", i, everyone[i], noisy=True) for i in range(count, len(everyone))]
    rng.shuffle(web)
    return store, web


def _record(
    rng: random.Random, record_id: str, person: int, p: dict[str, str], *, noisy: bool
) -> Record:
    values: dict[str, str | None] = dict(p)
    if noisy:
        for name in ("first_name", "last_name"):
            if rng.random() < 0.15:
                values[name] = typo(rng, p[name])
        if rng.random() < 0.15:
            values["phone"] = _transpose(rng, p["phone"])
        if rng.random() < 0.3:  # a local number, written without the country code
            values["phone"] = (values["phone"] or "")[3:]
        for name in FIELDS:
            if rng.random() < 0.1:
                values[name] = None
    if values["phone"] and values["phone"].startswith("+45"):
        values["phone"] = values["phone"][3:]
    return Record(record_id, person, **values)
