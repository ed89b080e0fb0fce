"""A generated analytics lake for the benchmarks (fictional, seeded), in the lake's own layout.

Events spread over ``DAYS`` days from ``START`` in one Parquet file per day; names drawn so that
fewer reach each later funnel step; channels uniform; an ``Order Completed`` carries a
``revenue`` property. ``person_map`` is an empty snapshot (no identity merges), so every
analysis still resolves ``person_id`` through it. :func:`write_people` adds the ``customers``
and ``consents`` snapshots a segment needs; :func:`append_events` adds a later batch of events
(ids after the last), as the lake export writes new files beside the old ones.

Columns are built with Arrow compute rather than Python lists: ten million events write in
seconds, not minutes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.events.lake import SCHEMA, lake_root

STEPS = ("Product Viewed", "Added to Cart", "Checkout Started", "Order Completed")
NAMES = (*STEPS, "Page Viewed")
WEIGHTS = (0.35, 0.15, 0.08, 0.05, 0.37)
CHANNELS = ("web", "app", "email", "sms")
COUNTRIES = ("NO", "SE", "DK", "FI", "DE")
DAYS = 60
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=DAYS)
TIME = SCHEMA.field("timestamp").type


def generate(data_dir: Path, customers: int, events: int, seed: int = 17) -> None:
    """``events`` events of ``customers`` customers over ``DAYS`` days, ids 1..events."""
    person_map = snapshot_path(data_dir, "person_map")
    person_map.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(BY_NAME["person_map"].schema.empty_table(), person_map)
    _write_events(data_dir, customers, events, first_id=1, days=(0, DAYS), seed=seed, part="1")


def generate_and_say(data_dir: Path, customers: int, events: int) -> None:
    """``generate``, then one line with the lake's size and the time it took to write."""
    began = time.perf_counter()
    generate(data_dir, customers, events)
    print(
        f"lake: {customers:,} customers, {events:,} events "
        f"({time.perf_counter() - began:.1f} s to write)"
    )


def append_events(
    data_dir: Path, customers: int, events: int, *, first_id: int, days: tuple[int, int], seed: int
) -> None:
    """A later batch: ids from ``first_id``, timestamps within days ``days`` (from, to) of the
    lake, in new files beside the existing ones (as the lake export adds them)."""
    _write_events(data_dir, customers, events, first_id=first_id, days=days, seed=seed, part="2")


def _write_events(
    data_dir: Path,
    customers: int,
    events: int,
    *,
    first_id: int,
    days: tuple[int, int],
    seed: int,
    part: str,
) -> None:
    rng = np.random.default_rng(seed)
    customer = rng.integers(1, customers + 1, events)
    seconds = np.sort(rng.integers(days[0] * 86400, days[1] * 86400, events))
    name_index = rng.choice(len(NAMES), events, p=WEIGHTS)
    channel_index = rng.integers(0, len(CHANNELS), events)
    revenue = np.round(rng.gamma(2.0, 40.0, events), 2)
    day = seconds // 86400
    start_us = int(START.timestamp()) * 1_000_000
    for number in range(days[0], days[1]):
        rows = np.nonzero(day == number)[0]
        if not len(rows):
            continue
        ids = pa.array(rows + first_id, pa.int64())
        when = pa.array(start_us + seconds[rows] * 1_000_000, pa.int64()).cast(TIME)
        names = pa.array(np.asarray(NAMES, dtype=object)[name_index[rows]], pa.string())
        order = pc.equal(names, "Order Completed")
        payload = pc.if_else(
            order,
            pc.binary_join_element_wise(
                '{"properties":{"revenue":',
                pc.cast(pa.array(revenue[rows]), pa.string()),
                "}}",
                "",
            ),
            '{"properties":{}}',
        )
        table = pa.table(
            {
                "id": ids,
                "source_id": pa.array(np.ones(len(rows), dtype=np.int64)),
                "message_id": pc.binary_join_element_wise("m", pc.cast(ids, pa.string()), ""),
                "type": pa.array(["track"] * len(rows)),
                "name": names,
                "channel": pa.array(
                    np.asarray(CHANNELS, dtype=object)[channel_index[rows]], pa.string()
                ),
                "anonymous_id": pa.nulls(len(rows), pa.string()),
                "user_id": pc.binary_join_element_wise(
                    "u", pc.cast(pa.array(customer[rows]), pa.string()), ""
                ),
                "customer_id": pa.array(customer[rows], pa.int64()),
                "timestamp": when,
                "received_at": when,
                "payload": payload,
            },
            schema=SCHEMA,
        )
        folder = lake_root(data_dir) / f"date={(START + timedelta(days=number)).date()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"part-{part}.parquet")


def write_people(data_dir: Path, customers: int, *, consent_share: float, seed: int = 17) -> None:
    """The ``customers`` snapshot (ids 1..customers, a ``tier`` trait on a third of them) and
    the ``consents`` snapshot (``marketing`` granted by ``consent_share`` of them)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, customers + 1, dtype=np.int64)
    tier = rng.choice(np.asarray(['{"tier":"gold"}', '{"tier":"silver"}', "{}"]), customers)
    created = pa.array(np.full(customers, int(START.timestamp()) * 1_000_000), pa.int64())
    created = created.cast(TIME)
    people = {
        "customer_id": pa.array(ids),
        "language": pa.array(["da"] * customers),
        "locale": pa.array(["da-DK"] * customers),
        "country": pa.array(np.asarray(COUNTRIES)[rng.integers(0, len(COUNTRIES), customers)]),
        "time_zone": pa.array(["Europe/Copenhagen"] * customers),
        "status": pa.array(["active"] * customers),
        "traits": pa.array(tier),
        "created_at": created,
        "updated_at": created,
    }
    _write_snapshot(data_dir, "customers", pa.table(people, schema=BY_NAME["customers"].schema))
    granted = ids[rng.random(customers) < consent_share]
    n = len(granted)
    consents = {
        "consent_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "customer_id": pa.array(granted),
        "sequence": pa.array(np.ones(n, dtype=np.int64)),
        "purpose_key": pa.array(["marketing"] * n),
        "decision": pa.array(["granted"] * n),
        "method": pa.array(["api"] * n),
        "channel": pa.nulls(n, pa.string()),
        "notice_version": pa.nulls(n, pa.int64()),
        "recorded_at": created.slice(0, n),
    }
    _write_snapshot(data_dir, "consents", pa.table(consents, schema=BY_NAME["consents"].schema))


def _write_snapshot(data_dir: Path, name: str, table: pa.Table) -> None:
    path = snapshot_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
