"""A demo-like shop lake for the analytics faces: people first seen over eight weeks, on the
web, in the app or from an e-mail, going browse -> cart -> checkout -> order with drop-off at
each step, some returning in later weeks. Written with pyarrow in the lake's and snapshots'
own layouts; the same seed gives the same files."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.events.lake import SCHEMA, lake_root

START = datetime(2026, 9, 7, 9, tzinfo=UTC)  # a Monday
STEPS = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
GO_ON = (0.6, 0.55, 0.7)  # the chance of taking each next step
CHANNELS = ("web", "app", "email")
PLACES = (("da-DK", "DK"), ("sv-SE", "SE"), ("nb-NO", "NO"), ("nl-NL", "NL"), ("en-GB", "GB"))


def write_shop_lake(
    data_dir: Path, people: int = 300, seed: int = 17, with_customers: bool = True
) -> int:
    """Writes the lake and (``with_customers``) the customers snapshot; returns the number of
    events."""
    rng = random.Random(seed)
    rows: list[dict] = []
    customers = []
    for person in range(1, people + 1):
        first = START + timedelta(days=rng.randrange(56), hours=rng.randrange(10))
        channel = rng.choice(CHANNELS)
        at = first
        for number, step in enumerate(STEPS):
            properties = {"revenue": rng.choice((20, 45, 90))} if step == STEPS[-1] else {}
            rows.append(_event(len(rows) + 1, person, step, channel, at, properties))
            if number == len(GO_ON) or rng.random() > GO_ON[number]:
                break
            at += timedelta(minutes=rng.randrange(5, 600))
        week = first
        while True:
            week += timedelta(days=7)
            if week > START + timedelta(days=63) or rng.random() > 0.45:
                break
            rows.append(_event(len(rows) + 1, person, STEPS[0], rng.choice(CHANNELS), week, {}))
        locale, country = PLACES[person % len(PLACES)]
        customers.append(
            {
                "customer_id": person,
                "language": locale.split("-")[0],
                "locale": locale,
                "country": country,
                "time_zone": "Europe/Copenhagen",
                "status": "active",
                "traits": "{}",
                "created_at": first - timedelta(minutes=1),
                "updated_at": first,
            }
        )
    by_day: dict[str, list[dict]] = {}
    for row in rows:
        by_day.setdefault(row["timestamp"].date().isoformat(), []).append(row)
    for day, day_rows in by_day.items():
        folder = lake_root(data_dir) / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(day_rows, schema=SCHEMA)
        pq.write_table(table, folder / f"part-{day_rows[0]['id']}.parquet")
    if not with_customers:
        return len(rows)
    path = snapshot_path(data_dir, "customers")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(customers, schema=BY_NAME["customers"].schema), path)
    return len(rows)


def _event(event_id: int, person: int, name: str, channel: str, at: datetime, props: dict) -> dict:
    return {
        "id": event_id,
        "source_id": 1,
        "message_id": f"shop-{event_id}",
        "type": "track",
        "name": name,
        "channel": channel,
        "anonymous_id": None,
        "user_id": f"shopper-{person}",
        "customer_id": person,
        "timestamp": at,
        "received_at": at,
        "payload": orjson.dumps({"properties": props}).decode(),
    }
