"""The staff search box (customers.service.search_customers) at growing sizes.

For each size, a fresh database (SQLite in a temporary directory, or --database-url) is migrated
and filled with N customers, each with a name, an e-mail and a phone identity (bulk rows, the
shape the importer makes). Then each search text is run --rounds times; the median and p95 of its
CPU time in milliseconds (SQLite runs in this process; CPU time, because this machine is shared and
its wall times follow the load) are printed with the ratio of the p95 to a primary-key lookup in the same database
(the baseline that tells this machine's speed from the search's own cost), and the ratio of the
largest size's p95 to the smallest's (a search that scans grows with it; one that seeks does not).

Run:  python benchmarks/customer_search.py [--sizes 1000,10000,100000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert

from tillit.customers.models import Customer, Identity
from tillit.customers.service import Defaults, get_customer, search_customers
from tillit.storage.engine import make_engine
from tillit.storage.migrate import upgrade
from tillit.storage.session import make_session_factory

DEFAULTS = Defaults(country="DK", language="da", time_zone="Europe/Copenhagen")
FIRST = ["Ingrid", "Lars", "Sofie", "Mads", "Anna", "Jens", "Maja", "Kari", "Emma", "Noah"]
LAST = ["Hansen", "Larsen", "Berg", "Nordmann", "de Vries", "Lindqvist", "Jensen", "Bakker"]
SEARCHES = {
    "part of an e-mail (many)": "example.com",
    "part of an e-mail (few)": "berg7",
    "e-mail prefix": "ingrid.hansen1",
    "whole e-mail": "lars.nordmann11@example.com",
    "name": "Nordmann",
    "phone": "+45 20 00 01 23",
    "customer id": "42",
    "nothing found": "qqqqzzzz",
}


def fill(url: str, size: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        for start in range(0, size, 5000):
            rows = range(start, min(size, start + 5000))
            people = [
                {
                    "id": i + 1,
                    "name": f"{FIRST[i % 10]} {LAST[i % 8]}",
                    "locale": "da-DK",
                    "time_zone": "Europe/Copenhagen",
                    "country": "DK",
                    "traits": {},
                    "status": "active",
                }
                for i in rows
            ]
            connection.execute(insert(Customer), people)
            identities = []
            for i in rows:
                local = f"{FIRST[i % 10]}.{LAST[i % 8]}{i}".lower().replace(" ", "")
                identities.append(
                    {"customer_id": i + 1, "type": "email", "value": f"{local}@example.com"}
                )
                identities.append(
                    {"customer_id": i + 1, "type": "phone", "value": f"+45200{i:05d}"}
                )
            connection.execute(insert(Identity), identities)
    engine.dispose()


def times(rounds: int, action: Callable[[], object]) -> list[float]:
    action()  # warm-up
    found = []
    for _ in range(rounds):
        start = time.process_time()
        action()
        found.append((time.process_time() - start) * 1000)
    return found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(url: str, size: int, rounds: int) -> dict[str, float]:
    fill(url, size)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    results = {}
    with factory() as session:
        base = p95(times(rounds, lambda: get_customer(session=session, customer_id=size // 2)))
        print(f"\n{size:,} customers; baseline (a primary-key lookup) p95 {base:.2f} ms")
        print(f"{'search':28} {'found':>6} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
        for label, text in SEARCHES.items():
            found = len(search_customers(session=session, defaults=DEFAULTS, query=text)[0])
            spent = times(
                rounds, lambda t=text: search_customers(session=session, defaults=DEFAULTS, query=t)
            )
            results[label] = p95(spent)
            print(
                f"{label:28} {found:>6} {statistics.median(spent):>10.2f} {p95(spent):>8.2f}"
                f" {p95(spent) / base:>11.1f}"
            )
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (dropped per size)")
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",")]
    by_size = {}
    for size in sizes:
        if arguments.database_url:
            from sqlalchemy import text

            engine = make_engine(arguments.database_url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
            by_size[size] = measure(arguments.database_url, size, arguments.rounds)
        else:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'search.db'}"
                by_size[size] = measure(url, size, arguments.rounds)
    if len(sizes) > 1:
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        print(f"\np95 at {sizes[-1]:,} / p95 at {sizes[0]:,} (1.0 = does not grow with size):")
        for label in SEARCHES:
            print(f"  {label:28} {large[label] / small[label]:6.1f}")


if __name__ == "__main__":
    main()
