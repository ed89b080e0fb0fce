"""The four-step funnel and goals by channel on DuckDB and on Spark (``local[2]``) over the same
generated lake: the answers must be equal; prints each engine's wall time (Spark's start-up
timed apart) and the ratio Spark / DuckDB.

    .venv/bin/python benchmarks/analytics_spark.py [--customers 100000] [--events 1000000]

The engine is chosen as the product chooses it (``tillit.analytics.engine.connect``, the
setting ``analytics_engine``), so Spark runs with the product's session: time zone UTC, its
warehouse and scratch folders under the (temporary) data directory. Needs Java 17.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from analytics_funnel import WITHIN, _rows
from analytics_goals import GOAL, same_answers
from lake_gen import STEPS, generate_and_say

from tillit.analytics.engine import ENGINES, connect, spark_session, stop_spark
from tillit.analytics.funnels import Funnel, Step, funnel_expression
from tillit.analytics.goals import by_channel
from tillit.analytics.tables import Model
from tillit.config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        generate_and_say(data_dir, args.customers, args.events)
        settings = load_settings(data_dir=data_dir, spark_master=args.master)
        began = time.perf_counter()
        spark_session(settings)
        print(f"spark {args.master} start-up: {time.perf_counter() - began:.2f} s (not timed)")
        funnel = Funnel(steps=tuple(Step(name) for name in STEPS), within=WITHIN)
        answers: dict[tuple[str, str], object] = {}
        times: dict[tuple[str, str], list[float]] = {}
        try:
            for engine in ENGINES:
                for _ in range(args.repeat):
                    model = Model(connect(settings, engine), data_dir)
                    began = time.perf_counter()
                    answers["funnel", engine] = _rows(funnel_expression(model, funnel).to_pyarrow())
                    times.setdefault(("funnel", engine), []).append(time.perf_counter() - began)
                    began = time.perf_counter()
                    answers["goals", engine] = by_channel(model, GOAL)
                    times.setdefault(("goals", engine), []).append(time.perf_counter() - began)
        finally:
            stop_spark()
        for report in ("funnel", "goals"):
            duck, spark = answers[report, "duckdb"], answers[report, "spark"]
            equal = same_answers(duck, spark) if report == "goals" else duck == spark
            if not equal:
                raise SystemExit(f"{report}: different answers:\nduckdb {duck}\nspark  {spark}")
            best = {engine: min(times[report, engine]) for engine in ENGINES}
            print(
                f"{report}: answers equal; duckdb {best['duckdb']:.2f} s, "
                f"spark {best['spark']:.2f} s (best of {args.repeat}); "
                f"spark / duckdb {best['spark'] / best['duckdb']:.1f}x"
            )


if __name__ == "__main__":
    main()
