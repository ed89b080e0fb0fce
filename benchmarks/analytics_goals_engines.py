"""One goals query (orders by channel of the meeting: first touch, last touch, linear, value,
time to convert) on DuckDB and on Spark over the same lake, with equal results. Prints wall
times and the ratio Spark / DuckDB (Spark's start-up timed apart).

    tillit demo --no-serve          # in a folder: its data directory is var/
    .venv/bin/python benchmarks/analytics_goals_engines.py --data-dir var [--repeat 3]

The lake and the snapshots are brought up to date first (as the jobs process does).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tillit.analytics.engine import connect, spark_session, stop_spark
from tillit.analytics.goals import EventGoal, by_channel
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.config import load_settings
from tillit.events.lake import export_events
from tillit.storage import make_engine, make_session_factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--event", default="Order Completed")
    parser.add_argument("--value", default="revenue")
    args = parser.parse_args()
    settings = load_settings(data_dir=args.data_dir)
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    exported = 0
    while report := export_events(sessions=sessions, data_dir=settings.data_dir):
        if not report.events:
            break
        exported += report.events
    snapshots = refresh_snapshots(sessions=sessions, data_dir=settings.data_dir)
    print(f"lake: {exported} events exported now; snapshots written: {len(snapshots.written)}")

    goal = EventGoal("orders", args.event, window_days=7, value_property=args.value)
    started = time.perf_counter()
    spark_session(settings)
    print(f"spark start-up: {time.perf_counter() - started:.2f} s (not in the ratio)")
    timings: dict[str, list[float]] = {}
    answers = {}
    for engine in ("duckdb", "spark"):
        for _ in range(args.repeat):
            model = Model(connect(settings, engine), settings.data_dir)
            started = time.perf_counter()
            answers[engine] = by_channel(model, goal)
            timings.setdefault(engine, []).append(time.perf_counter() - started)
    stop_spark()
    for row in answers["duckdb"]:
        print(
            f"  {row.channel:8} met {row.people_met:6} converted {row.people_converted:6} "
            f"last touch {row.last_touch:8.0f} value {row.value_last_touch:12.2f}"
        )
    best = {engine: min(times) for engine, times in timings.items()}
    for engine, times in timings.items():
        print(f"{engine}: best {best[engine]:.3f} s of {', '.join(f'{t:.3f}' for t in times)}")
    print(f"ratio spark / duckdb: {best['spark'] / best['duckdb']:.1f}x")
    print(f"equal results: {answers['duckdb'] == answers['spark']}")


if __name__ == "__main__":
    main()
