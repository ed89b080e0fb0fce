"""The data-quality measurement (quality.service.measure) at growing sizes, against the form of
its values query that joined every observation to the set of reachable customers (SQLite
scanned that set once per observation: minutes at 10,000 customers).

For each size, a fresh SQLite database is filled as benchmarks/customer_search.py fills it (N
customers, each with a name, an e-mail and a phone). Prints the CPU seconds of the whole
measurement, of today's values query and of the old one on the same database (SQLite runs in
this process; CPU time, because this machine is shared), their ratio, and whether both give the
same rows.

Run:  python benchmarks/quality_measure.py [--sizes 1000,3000,10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from tillit.quality import queries, service
from tillit.storage.base import UtcDateTime, utcnow
from tillit.storage.engine import make_engine
from tillit.storage.session import make_session_factory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from customer_search import fill


def old_values_query(dialect: str) -> TextClause:
    return text(
        f"""
        WITH o AS ({queries.observations(dialect)}),
        reachable AS (
            SELECT DISTINCT r.customer_id FROM identity r
            JOIN customer rc ON rc.id = r.customer_id
            WHERE r.type IN ('email', 'phone') AND rc.status = 'active'
        )
        SELECT o.origin, o.source, o.field, o.value, o.kind,
               CASE WHEN o.seen_at >= :current_since THEN 1 ELSE 0 END AS fresh,
               CASE WHEN reachable.customer_id IS NULL THEN 0 ELSE 1 END AS usable,
               count(*) AS n
        FROM o LEFT JOIN reachable ON reachable.customer_id = o.customer_id
        WHERE {queries._FILLED}
        GROUP BY o.origin, o.source, o.field, o.value, o.kind, 6, 7
        """
    ).bindparams(bindparam("current_since", type_=UtcDateTime()))


def rows(session: Session, query: TextClause, since: datetime) -> tuple[float, list[Any]]:
    """CPU seconds of the query, and its rows in order."""
    start = time.process_time()
    found = sorted(tuple(row) for row in session.execute(query, {"current_since": since}))
    return time.process_time() - start, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,3000,10000")
    arguments = parser.parse_args()
    print(f"{'customers':>10} {'measure s':>10} {'values s':>9} {'old values s':>13} {'ratio':>7}")
    for size in (int(s) for s in arguments.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'quality.db'}"
            fill(url, size)
            engine = make_engine(url)
            with make_session_factory(engine)() as session:
                started = time.process_time()
                service.measure(session=session, default_country="DK")
                whole = time.process_time() - started
                since = utcnow() - timedelta(days=365)
                new_s, new = rows(session, queries.values_query("sqlite"), since)
                old_s, old = rows(session, old_values_query("sqlite"), since)
            engine.dispose()
        same = "same rows" if new == old else "DIFFERENT ROWS"
        print(
            f"{size:>10,} {whole:>10.2f} {new_s:>9.2f} {old_s:>13.2f} {old_s / new_s:>7.1f} {same}"
        )


if __name__ == "__main__":
    main()
