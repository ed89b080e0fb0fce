"""The relevance score against the simulator's latent interests (AUC), on a simulated year.

    PYTHONPATH=src python benchmarks/campaign_relevance.py [--customers 1000] [--days 90]

Simulates the people, their store records, their events on six channels and their profiles
into a fresh SQLite database, then scores one campaign per product category (a signal on
``Product Viewed`` with that ``category``, the campaign's whole window) from the events Tillit
stored, exactly as planning does, and compares each score with the person's hidden interest in
the category (above the median: interested). Prints the AUC per category and its mean.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.campaigns.test_relevance_auc import EVENT_ACTS, relevance_auc

from tillit.config import load_settings
from tillit.customers.service import Defaults
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.run import simulate, truth_path
from tillit.storage import make_engine, make_session_factory, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings(database_url=url, data_dir=Path(tmp))
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        now = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        started = time.perf_counter()
        simulate(
            sessions=sessions,
            settings=settings,
            defaults=Defaults(country="DK", language="da", time_zone="Europe/Copenhagen"),
            options=Options(customers=args.customers, days=args.days, seed=args.seed),
            now=now,
            acts=EVENT_ACTS,
        )
        truth = [orjson.loads(line) for line in truth_path(Path(tmp)).read_bytes().splitlines()]
        simulated = time.perf_counter() - started
        found = relevance_auc(sessions, truth, days=args.days, now=now)
        engine.dispose()
    print(f"people: {args.customers:,}; days: {args.days}; simulated in {simulated:.1f} s")
    for category, value in found.items():
        print(f"  {category:<12} AUC {value:.3f}")
    print(f"mean AUC {sum(found.values()) / len(found):.3f}")


if __name__ == "__main__":
    main()
