"""Bulk import of JSON Lines: tillit.events.importing.import_file against a bare loader.

The bare loader only parses each line with orjson and inserts the same columns into the same
``event`` table with sqlite3 ``executemany``, 50,000 rows a transaction: no validation, no
identity resolution, no resend check, no checkpoint. Both write to fresh SQLite files
(WAL, synchronous=NORMAL, as Tillit runs) in a temporary directory. Tillit runs as
``tillit import events`` does by default: a file of 4 MiB or more is parsed by one fewer
worker processes than there are cores, ahead of the one storing process. The events: signed-in
people (pool of 50,000) with an identify each 20 events and page/track calls in between.

Each of ``--rounds`` (3) rounds runs the bare loader, then Tillit; the script prints each
round's ratio and the median.

Run:  python benchmarks/events_import.py            (50,000 events)
      python benchmarks/events_import.py --full     (1,000,000 events)
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tillit.audit.service import Actor
from tillit.customers.service import Defaults
from tillit.events.importing import import_file
from tillit.events.importing.chunks import worker_count as _worker_count
from tillit.events.sources import create_source
from tillit.identity.rules import load_rules
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.vocabulary import SourceChannel

DEFAULTS = Defaults(country="DK", language="en", time_zone="Europe/Copenhagen")


def write_events(path: Path, count: int) -> None:
    with path.open("wb") as handle:
        for n in range(count):
            person = (n // 20) % 50_000
            message: dict[str, object] = {
                "userId": f"user-{person}",
                "anonymousId": f"anon-{n // 20}",
                "messageId": f"m-{n}",
                "timestamp": "2026-03-01T10:00:00Z",
            }
            if n % 20 == 0:
                message |= {"type": "identify", "traits": {"email": f"p{person}@example.com"}}
            elif n % 2:
                message |= {"type": "page", "name": "Product", "properties": {"path": f"/p/{n}"}}
            else:
                message |= {"type": "track", "event": "Viewed", "properties": {"sku": n % 97}}
            handle.write(orjson.dumps(message) + b"\n")


def database(directory: Path, name: str) -> str:
    url = f"sqlite:///{directory / name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def bare_load(db_file: Path, path: Path) -> None:
    connection = sqlite3.connect(db_file, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "INSERT INTO event_source (name, write_key_hash, channel, active, created_at) "
        "VALUES ('bare', 'x', 'web', 1, '2026-01-01')"
    )
    sql = (
        "INSERT INTO event (source_id, message_id, type, name, channel, anonymous_id, user_id, "
        "customer_id, timestamp, received_at, payload) VALUES (1,?,?,?,'web',?,?,NULL,?,?,?)"
    )
    now = datetime.now(UTC).isoformat()
    rows: list[tuple[object, ...]] = []

    def flush() -> None:
        connection.execute("BEGIN")
        connection.executemany(sql, rows)
        connection.execute("COMMIT")
        rows.clear()

    with path.open("rb") as handle:
        for line in handle:
            m = orjson.loads(line)
            rows.append(
                (
                    m["messageId"],
                    m["type"],
                    m.get("event") or m.get("name"),
                    m.get("anonymousId"),
                    m.get("userId"),
                    m.get("timestamp"),
                    now,
                    line,
                )
            )
            if len(rows) >= 50_000:
                flush()
    if rows:
        flush()
    connection.close()


def tillit_load(url: str, path: Path) -> int:
    sessions = make_session_factory(make_engine(url))
    with sessions() as session, session.begin():
        source, _ = create_source(
            session=session, name="import", channel=SourceChannel.web, actor=Actor.system("bench")
        )
    report = import_file(
        sessions=sessions, path=path, source=source, rules=load_rules(), defaults=DEFAULTS
    )
    return report.accepted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="1,000,000 events")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    count = arguments.events or (1_000_000 if arguments.full else 50_000)
    rounds: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "events.jsonl"
        write_events(path, count)
        workers = _worker_count(path, None)  # what import_file chooses for this file
        # Rounds alternate the two loaders, each into a fresh database, so that each ratio
        # compares runs seconds apart on this machine, whose speed drifts over minutes.
        for n in range(arguments.rounds):
            database(directory, f"bare-{n}.db")
            start = time.perf_counter()
            bare_load(directory / f"bare-{n}.db", path)
            bare_s = time.perf_counter() - start
            url = database(directory, f"tillit-{n}.db")
            start = time.perf_counter()
            accepted = tillit_load(url, path)
            tillit_s = time.perf_counter() - start
            assert accepted == count, accepted
            rounds.append((count / bare_s, count / tillit_s))
    print(f"{count:,} events, JSON Lines, SQLite; tillit with {workers} parsing worker(s)")
    for n, (bare_rate, tillit_rate) in enumerate(rounds, 1):
        print(
            f"round {n}: bare (orjson + executemany) {bare_rate:10,.0f} events/s   "
            f"tillit import {tillit_rate:10,.0f} events/s   ratio {tillit_rate / bare_rate:5.2f}x"
        )
    tillit_median = statistics.median(t for _, t in rounds)
    ratio_median = statistics.median(t / b for b, t in rounds)
    print(f"tillit import events, median {tillit_median:10,.0f} events/s  (target >= 100,000)")
    print(f"ratio tillit/bare, median    {ratio_median:10.2f}x  (target >= 0.5x)")


if __name__ == "__main__":
    main()
