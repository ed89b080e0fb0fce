"""A four-step ordered funnel within 7 days, by the Ibis code (tillit.analytics.funnels) on
DuckDB against a hand-written DuckDB SQL query of the same meaning over the same Parquet files;
checks the answers are equal and prints both times and the ratio Ibis / SQL (target: 1.3 or
less).

    .venv/bin/python benchmarks/analytics_funnel.py [--customers 200000] [--events 2000000]

The lake is generated (``lake_gen.py``: fictional, seeded) in a temporary folder, with an
empty ``person_map`` snapshot (no identity merges): events spread over 60 days, names drawn so
that fewer reach each later step. Both queries resolve ``person_id`` through ``person_map``, as
every analysis must.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
from lake_gen import STEPS, generate_and_say

from tillit.analytics.funnels import ALL, Funnel, Step, funnel_expression
from tillit.analytics.snapshots import snapshot_path
from tillit.analytics.tables import Model
from tillit.events.lake import lake_root

WITHIN = timedelta(days=7)


def hand_written_sql(data_dir: Path) -> str:
    """The same funnel as one DuckDB query: the reachable states (entry, time of the step) per
    step, deduplicated, each joined with the next step's events."""
    glob = lake_root(data_dir) / "date=*" / "*.parquet"
    person_map = snapshot_path(data_dir, "person_map")
    window = int(WITHIN.total_seconds())
    stages = [
        f"""s1 AS (SELECT person_id, coalesce(channel, '') AS channel,
            timestamp AS start, timestamp AS at, id, CAST(NULL AS DOUBLE) AS gap
            FROM e WHERE name = '{STEPS[0]}')"""
    ]
    for k, name in enumerate(STEPS[1:], start=2):
        stages.append(
            f"""s{k} AS (SELECT s.person_id, s.channel, s.start, n.timestamp AS at, n.id,
                CAST(floor(epoch(n.timestamp)) - floor(epoch(max(s.at))) AS DOUBLE) AS gap
            FROM s{k - 1} s JOIN e n ON n.person_id = s.person_id AND n.name = '{name}'
              AND (n.timestamp > s.at OR (n.timestamp = s.at AND n.id > s.id))
              AND n.timestamp <= s.start + INTERVAL {window} SECOND
            GROUP BY s.person_id, s.channel, s.start, n.timestamp, n.id)"""
        )
    parts = []
    for k in range(1, len(STEPS) + 1):
        parts.append(
            f"""SELECT '{ALL}' AS channel, {k} AS step, count(*) AS people, median(gap) AS median
            FROM (SELECT person_id, min(gap) AS gap FROM s{k} GROUP BY person_id)"""
        )
        parts.append(
            f"""SELECT channel, {k} AS step, count(*) AS people, median(gap) AS median
            FROM (SELECT channel, person_id, min(gap) AS gap FROM s{k} GROUP BY channel, person_id)
            GROUP BY channel"""
        )
    return (
        f"WITH e AS (SELECT ev.*, coalesce(pm.person_id, ev.customer_id) AS person_id "
        f"FROM read_parquet('{glob}') ev "
        f"LEFT JOIN read_parquet('{person_map}') pm ON pm.customer_id = ev.customer_id), "
        + ", ".join(stages)
        + " "
        + " UNION ALL ".join(parts)
    )


def _rows(table: pa.Table) -> list[tuple]:
    rows = [
        (r["channel"], int(r["step"]), int(r["people"]), r["median"]) for r in table.to_pylist()
    ]
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        generate_and_say(data_dir, args.customers, args.events)
        funnel = Funnel(steps=tuple(Step(name) for name in STEPS), within=WITHIN)
        expression = funnel_expression(Model(ibis.duckdb.connect(), data_dir), funnel)
        sql = hand_written_sql(data_dir)
        connection = duckdb.connect()
        ibis_times, sql_times = [], []
        for _ in range(args.repeat):
            began = time.perf_counter()
            ibis_rows = _rows(expression.to_pyarrow())
            ibis_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            sql_rows = _rows(connection.sql(sql).to_arrow_table())
            sql_times.append(time.perf_counter() - began)
        if ibis_rows != sql_rows:
            raise SystemExit(f"different answers:\nibis {ibis_rows}\nsql  {sql_rows}")
        total = [people for channel, _, people, _ in ibis_rows if channel == ALL]
        print(f"people per step (all channels): {total}; answers equal")
        best_ibis, best_sql = min(ibis_times), min(sql_times)
        print(f"ibis on duckdb: {best_ibis:.3f} s (best of {args.repeat})")
        print(f"hand-written duckdb sql: {best_sql:.3f} s (best of {args.repeat})")
        print(f"ratio ibis / sql: {best_ibis / best_sql:.2f} (target 1.3 or less)")


if __name__ == "__main__":
    main()
