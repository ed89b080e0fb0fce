"""Analysing an experiment's exposures on the analytics layer: tillit.experiments.metrics (Ibis on
DuckDB: revenue per person within 7 days after the first exposure, and within 7 days before it
for CUPED, per variant) against a hand-written DuckDB SQL query computing the same means,
variances and covariance over the same Parquet files, in the same run. Checks the answers are
equal and prints both times and the ratio Ibis / SQL (the issue's target: 1.3 or less).

    .venv/bin/python benchmarks/experiments_analysis.py [--exposures 10000000] [--repeat 3]

The default is 1,000,000 exposures (the issue's figure, 10,000,000, takes a few minutes and
several GB of memory). The lake is generated (fictional, seeded) in a temporary folder in the
lake's own layout: one exposure per person (plus 0.1 % served both variants, left out), 50/50
over 30 days, and orders around each exposure (Poisson 0.3 per person within ±10 days, revenue
log-normal, 5 % more under the variant); an empty ``person_map`` (no merges). Both sides resolve
``person_id`` through ``person_map`` as every analysis must.

Ours groups by variant *and* day of first exposure (the page's effect over time comes from the
same query) and combines the groups exactly in Python; the hand-written query groups by variant
only, so it does a little less.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tillit.analytics.goals import EventGoal
from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.analytics.tables import Model
from tillit.events.lake import SCHEMA, lake_root
from tillit.experiments.metrics import goal_metric, measure

KEY = "checkout-copy"
VARIANTS = ("control", "pay-now")
WINDOW_DAYS = 7
GOAL = EventGoal("revenue", "Order Completed", window_days=WINDOW_DAYS, value_property="revenue")
START = np.datetime64("2026-01-01T00:00:00", "us")
UTC = pa.timestamp("us", tz="UTC")
DAY_US = 86_400_000_000


def _times(offsets_us: np.ndarray) -> pa.Array:
    return pa.array((START + offsets_us.astype("timedelta64[us]")).astype("datetime64[us]")).cast(
        UTC
    )


def generate(data_dir: Path, exposures: int, seed: int = 18) -> int:
    rng = np.random.default_rng(seed)
    people = np.arange(1, exposures + 1, dtype=np.int64)
    treated = rng.random(exposures) < 0.5
    variant = np.where(treated, VARIANTS[1], VARIANTS[0]).astype(object)
    exposed = rng.integers(0, 30 * DAY_US, exposures) + 20 * DAY_US
    mixed = people[rng.random(exposures) < 0.001]  # also served the other variant: left out
    mixed_variant = np.where(treated[mixed - 1], VARIANTS[0], VARIANTS[1]).astype(object)
    ids = np.arange(1, exposures + len(mixed) + 1, dtype=np.int64)
    table = pa.table(
        {
            "exposure_id": pa.array(ids),
            "experiment_key": pa.array(np.full(len(ids), KEY, dtype=object), pa.string()),
            "customer_id": pa.array(np.concatenate([people, mixed])),
            "variant": pa.array(np.concatenate([variant, mixed_variant]), pa.string()),
            "via": pa.array(np.full(len(ids), "api", dtype=object), pa.string()),
            "exposed_at": _times(np.concatenate([exposed, exposed[mixed - 1] + DAY_US])),
        },
        schema=BY_NAME["exposures"].schema,
    )
    path = snapshot_path(data_dir, "exposures")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    person_map = snapshot_path(data_dir, "person_map")
    person_map.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(BY_NAME["person_map"].schema.empty_table(), person_map)

    orders = rng.poisson(0.3, exposures)
    who = np.repeat(people, orders)
    when = np.repeat(exposed, orders) + rng.integers(-10 * DAY_US, 10 * DAY_US, len(who))
    revenue = np.round(rng.lognormal(4, 0.8, len(who)) * np.where(treated[who - 1], 1.05, 1), 2)
    order = np.argsort(when, kind="stable")
    who, when, revenue = who[order], when[order], revenue[order]
    day = when // DAY_US
    for number in np.unique(day):
        rows = np.nonzero(day == number)[0]
        first, last = rows[0], rows[-1] + 1
        count = last - first
        payload = [f'{{"properties":{{"revenue":{r}}}}}' for r in revenue[first:last]]
        batch = pa.table(
            {
                "id": pa.array(np.arange(first, last, dtype=np.int64) + 1),
                "source_id": pa.array(np.ones(count, dtype=np.int64)),
                "message_id": pa.array([f"m{i}" for i in range(first, last)]),
                "type": pa.array(["track"] * count),
                "name": pa.array(["Order Completed"] * count),
                "channel": pa.array(["web"] * count),
                "anonymous_id": pa.nulls(count, pa.string()),
                "user_id": pa.nulls(count, pa.string()),
                "customer_id": pa.array(who[first:last]),
                "timestamp": _times(when[first:last]),
                "received_at": _times(when[first:last]),
                "payload": pa.array(payload),
            },
            schema=SCHEMA,
        )
        date = str((START + np.timedelta64(int(number), "D")).astype("datetime64[D]"))
        folder = lake_root(data_dir) / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(batch, folder / "part-1.parquet")
    return len(who)


def hand_written_sql(data_dir: Path) -> str:
    glob = lake_root(data_dir) / "date=*" / "*.parquet"
    exposures = snapshot_path(data_dir, "exposures")
    person_map = snapshot_path(data_dir, "person_map")
    window = f"INTERVAL {WINDOW_DAYS} DAY"
    return f"""
    WITH pm AS (SELECT * FROM read_parquet('{person_map}')),
    ex AS (SELECT coalesce(pm.person_id, x.customer_id) AS person_id, x.variant, x.exposed_at
           FROM read_parquet('{exposures}') x LEFT JOIN pm ON pm.customer_id = x.customer_id
           WHERE x.experiment_key = '{KEY}'),
    units AS (SELECT person_id, min(variant) AS variant, min(exposed_at) AS first_at
              FROM ex GROUP BY person_id HAVING count(DISTINCT variant) = 1),
    ev AS (SELECT coalesce(pm.person_id, e.customer_id) AS person_id, e.timestamp AS at,
                  CAST(json_extract(e.payload, '$.properties.revenue') AS DOUBLE) AS value
           FROM read_parquet('{glob}') e LEFT JOIN pm ON pm.customer_id = e.customer_id
           WHERE e.name = 'Order Completed'),
    per_person AS (
        SELECT u.person_id, u.variant,
               sum(CASE WHEN ev.at >= u.first_at THEN ev.value ELSE 0 END) AS y,
               sum(CASE WHEN ev.at < u.first_at THEN ev.value ELSE 0 END) AS x
        FROM units u LEFT JOIN ev ON ev.person_id = u.person_id
             AND ev.at >= u.first_at - {window} AND ev.at < u.first_at + {window}
        GROUP BY u.person_id, u.variant)
    SELECT variant, count(*) AS n, avg(y) AS mean_y, avg(x) AS mean_x, var_samp(y) AS var_y,
           var_samp(x) AS var_x, covar_samp(y, x) AS cov_xy
    FROM per_person GROUP BY variant ORDER BY variant
    """


def _ours(data_dir: Path) -> dict[str, tuple[float, ...]]:
    measured = measure(
        Model(ibis.duckdb.connect(), data_dir), KEY, goal_metric(GOAL), list(VARIANTS)
    )
    found = {}
    for variant, moments in measured.totals.items():
        s = moments.covariate_sample()
        found[variant] = (s.n, s.mean, s.mean_pre, s.variance, s.variance_pre, s.covariance)
    return found


def _theirs(connection: duckdb.DuckDBPyConnection, sql: str) -> dict[str, tuple[float, ...]]:
    return {row[0]: tuple(float(v) for v in row[1:]) for row in connection.sql(sql).fetchall()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        began = time.perf_counter()
        orders = generate(data_dir, args.exposures)
        print(
            f"lake: {args.exposures:,} exposures, {orders:,} orders "
            f"({time.perf_counter() - began:.1f} s to write)"
        )
        sql = hand_written_sql(data_dir)
        connection = duckdb.connect()
        ours_times, sql_times = [], []
        for _ in range(args.repeat):
            began = time.perf_counter()
            ours = _ours(data_dir)
            ours_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            theirs = _theirs(connection, sql)
            sql_times.append(time.perf_counter() - began)
        for variant in VARIANTS:
            for a, b in zip(ours[variant], theirs[variant], strict=True):
                if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                    raise SystemExit(f"different answers for {variant}: {ours} vs {theirs}")
        for variant in VARIANTS:
            n, mean, mean_pre, var, var_pre, cov = ours[variant]
            print(
                f"{variant}: n {int(n):,}, mean {mean:.4f} (sd {math.sqrt(var):.3f}), "
                f"pre {mean_pre:.4f}, corr {cov / math.sqrt(var * var_pre):.3f}"
            )
        print("answers equal (relative tolerance 1e-9)")
        best_ours, best_sql = min(ours_times), min(sql_times)
        print(
            f"tillit.experiments.metrics (ibis on duckdb): {best_ours:.3f} s (best of {args.repeat})"
        )
        print(f"hand-written duckdb sql: {best_sql:.3f} s (best of {args.repeat})")
        print(f"ratio ours / sql: {best_ours / best_sql:.2f} (target 1.3 or less)")


if __name__ == "__main__":
    main()
