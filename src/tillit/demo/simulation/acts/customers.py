"""The store system's loyalty records, loaded as a store would: through the CSV importer,
under the source name ``store`` (so ``tillit match run store "web shop"`` finds them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from tillit.customers.importer import import_customers
from tillit.demo.simulation.population import Person
from tillit.demo.simulation.world import ACTOR, World

SOURCE = "source:store"
COLUMNS = (
    "name",
    "email",
    "phone",
    "user_id",
    "loyalty_card",
    "locale",
    "time_zone",
    "country",
    "trait.firstName",
    "trait.lastName",
    "trait.birthday",
    "trait.postcode",
    "trait.city",
)


def store_row(person: Person) -> dict[str, str]:
    """A duplicate's store record carries neither their e-mail nor their web account."""
    linked = person.kind == "linked"
    return {
        "name": person.name,
        "email": person.email if person.kind != "duplicate" else "",
        "phone": person.phone or "",
        "user_id": (person.user_id or "") if linked else "",
        "loyalty_card": person.loyalty_card or "",
        "locale": person.locale,
        "time_zone": person.time_zone,
        "country": person.country,
        "trait.firstName": person.given,
        "trait.lastName": person.family,
        "trait.birthday": person.birth_date,
        "trait.postcode": person.postcode,
        "trait.city": person.city,
    }


def act(world: World, progress: Callable[[int, int], None]) -> None:
    rows = [store_row(p) for p in world.people if p.store]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    buffer.seek(0)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        progress(done, len(rows))

    report = import_customers(
        sessions=world.sessions,
        source=buffer,
        defaults=world.defaults,
        actor=ACTOR,
        source_name=SOURCE,
        progress=advance,
    )
    world.counts["store records"] = report.created
    world.counts["store records rejected"] = len(report.rejected)
