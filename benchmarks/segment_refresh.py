"""A segment's refresh after new events, by the jobs round's own path
(``tillit.analytics.segment_store.refresh_segments``), against a full recompute; checks the
memberships are identical and prints the times and the ratio refresh / full (target: 0.25 or
less).

    .venv/bin/python benchmarks/segment_refresh.py [--customers 200000] [--events 2000000]
        [--new-events 1000000]

The rule: viewed a product at least 3 times in 30 days, and has the trait ``tier`` = ``gold``
(a third of the people); members also need consent to ``marketing`` (most have it). A migrated
SQLite database in a temporary folder holds the customers (the refresh writes only people still
in the database), the segment and the lake's watermark; the lake and the ``customers`` and
``consents`` snapshots are generated (``lake_gen.py``).

1. The segment is computed once (its first membership written).
2. ``--new-events`` events of the last two days are added to the lake and the watermark moves,
   as the export does; the refresh is timed.
3. The full recompute: a second segment of the same rules and no membership yet, computed
   from scratch over the whole lake and written (what a refresh would cost if it kept nothing).
   Also timed: the first segment recomputed with ``force`` (everything read again, nothing
   left to write), the floor of any refresh that reads the whole lake.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import ibis
import numpy as np
from lake_gen import END, append_events, generate, write_people
from sqlalchemy import insert, select

from tillit.analytics.models import SegmentMember
from tillit.analytics.segment_store import get_segment, refresh_segments, save_segment
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.customers.models import Customer
from tillit.events.lake import STREAM
from tillit.events.models import LakeWatermark
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.session import SessionFactory

RULE = {
    "kind": "all",
    "rules": [
        {"kind": "events", "event": "Product Viewed", "at_least": 3, "within_days": 30},
        {"kind": "trait", "name": "tier", "equals": "gold"},
    ],
}
NOW = END + timedelta(hours=1)  # one moment for every computation: windows end here
ACTOR = Actor.system("benchmark")


def _database(data_dir: Path, customers: int) -> SessionFactory:
    engine = make_engine(f"sqlite:///{data_dir / 'tillit.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        ids = np.arange(1, customers + 1)
        for chunk in np.array_split(ids, max(1, customers // 50_000)):
            session.execute(
                insert(Customer),
                [
                    {"id": int(i), "locale": "da-DK", "time_zone": "Europe/Copenhagen"}
                    for i in chunk
                ],
            )
        for key in ("active_gold", "active_gold_full"):
            save_segment(
                session=session,
                key=key,
                name=key,
                purpose="marketing",
                definition=RULE,
                actor=ACTOR,
            )
    return sessions


def _watermark(sessions: SessionFactory, last_event_id: int) -> None:
    with sessions() as session, session.begin():
        mark = session.get(LakeWatermark, STREAM) or LakeWatermark(name=STREAM)
        mark.last_event_id = last_event_id
        session.add(mark)


def _members(sessions: SessionFactory, key: str) -> set[int]:
    with sessions() as session:
        segment = get_segment(session, key)
        return set(
            session.scalars(
                select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment.id)
            )
        )


def _timed(sessions: SessionFactory, data_dir: Path, key: str, *, force: bool = False) -> float:
    began = time.perf_counter()
    report = refresh_segments(
        sessions=sessions,
        data_dir=data_dir,
        model=lambda: Model(ibis.duckdb.connect(), data_dir),
        now=NOW,
        only=[key],
        force=force,
    )
    seconds = time.perf_counter() - began
    if key not in report.refreshed:
        raise SystemExit(f"{key} was not recomputed: {report}")
    entered, left = report.refreshed[key]
    print(f"  {key}{' (force)' if force else ''}: {seconds:.2f} s, {entered:,} in, {left:,} out")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--new-events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        began = time.perf_counter()
        generate(data_dir, args.customers, args.events)
        write_people(data_dir, args.customers, consent_share=0.8)
        sessions = _database(data_dir, args.customers)
        _watermark(sessions, args.events)
        print(
            f"lake: {args.customers:,} customers, {args.events:,} events "
            f"({time.perf_counter() - began:.1f} s to write, database included)"
        )
        print("first computation:")
        _timed(sessions, data_dir, "active_gold")
        append_events(
            data_dir,
            args.customers,
            args.new_events,
            first_id=args.events + 1,
            days=(58, 60),
            seed=18,
        )
        _watermark(sessions, args.events + args.new_events)
        print(f"after {args.new_events:,} new events:")
        refresh = _timed(sessions, data_dir, "active_gold")
        full = _timed(sessions, data_dir, "active_gold_full")
        forced = _timed(sessions, data_dir, "active_gold", force=True)
        refreshed, recomputed = (
            _members(sessions, "active_gold"),
            _members(sessions, "active_gold_full"),
        )
        if refreshed != recomputed:
            raise SystemExit(
                f"different memberships: {len(refreshed - recomputed)} only in the refresh, "
                f"{len(recomputed - refreshed)} only in the full recompute"
            )
        print(f"memberships identical: {len(refreshed):,} members")
        print(f"ratio refresh / full recompute: {refresh / full:.2f} (target 0.25 or less)")
        print(f"ratio refresh / forced recompute (nothing to write): {refresh / forced:.2f}")


if __name__ == "__main__":
    main()
