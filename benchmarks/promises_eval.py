"""Every built-in promise evaluated by the Ibis code (tillit.promises.measure) on DuckDB against
hand-written DuckDB SQL of the same meaning over the same Parquet snapshots; checks the answers
(kept and total per day, and every broken instance) are equal and prints both times and the
ratio Ibis / SQL (target: 1.3 or less). Then the incremental round after one more day of
records, given the last round's breaches as the store gives them, against a whole evaluation
(target: 0.1 or less); the last round's figures merged with the incremental round's, as the
store merges them, must equal the whole evaluation's.

    .venv/bin/python benchmarks/promises_eval.py [--customers 20000] [--days 365]
    .venv/bin/python benchmarks/promises_eval.py --customers 1000000

The snapshots are generated (fictional, seeded) in a temporary folder in the lake's own layout,
with an empty ``person_map`` (no identity merges): a year of marketing, dialogue and
transactional messages, quiet hours, grants and withdrawals, cases, data requests and NPS
answers, each kind broken now and then. Time zones change offset on whole hours only. Messages
are numbered in the order they were sent and files are written in the lake writer's row groups,
as a real snapshot (written by id) is.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tillit.analytics.snapshots import BATCH_ROWS, BY_NAME, snapshot_path
from tillit.analytics.tables import Model
from tillit.promises import catalogue
from tillit.promises.measure import BREACH_COLUMNS, Rule, horizon
from tillit.promises.store import Measured, measure_one

START = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ("Europe/Oslo", "Europe/London", "America/New_York")
CAPS = "email:2/week,sms:1/week"


def _write(data_dir: Path, name: str, columns: dict[str, Any]) -> None:
    schema = BY_NAME[name].schema
    path = snapshot_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        f.name: pa.array(columns.get(f.name, [None] * _rows(columns)), f.type) for f in schema
    }
    # Row groups as the lake's own snapshot writer makes them (one per batch).
    table = pa.table(arrays, schema=schema)
    pq.write_table(table, path, compression="zstd", row_group_size=BATCH_ROWS)


def _rows(columns: dict[str, Any]) -> int:
    return len(next(iter(columns.values())))


def _times(seconds: np.ndarray) -> pa.Array:
    micros = (int(START.timestamp()) + seconds.astype(np.int64)) * 1_000_000
    return pa.array(micros, pa.timestamp("us", tz="UTC"))


def generate(data_dir: Path, customers: int, days: int, seed: int = 23) -> None:
    rng = np.random.default_rng(seed)
    span = days * 86400
    ids = np.arange(1, customers + 1)
    _write(data_dir, "person_map", {"customer_id": [], "person_id": []})
    _write(
        data_dir,
        "customers",
        {
            "customer_id": ids,
            "time_zone": np.asarray(ZONES, dtype=object)[rng.integers(0, len(ZONES), customers)],
            "status": ["active"] * customers,
        },
    )
    # Messages: about 15 a customer a year, a third of them transactional.
    n = customers * 15
    # Numbered in the order they were sent, as the database numbers them: a snapshot, written
    # by id, then holds each day's records together.
    send_customer = rng.integers(1, customers + 1, n)
    seconds = rng.integers(0, span, n)
    in_time = np.argsort(seconds, kind="stable")
    send_customer, seconds = send_customer[in_time], seconds[in_time]
    kinds = np.asarray(("marketing", "dialogue", "transactional"), dtype=object)[
        rng.choice(3, n, p=(0.5, 0.17, 0.33))
    ]
    channels = np.where(
        kinds == "dialogue", "in_app", np.where(rng.random(n) < 0.8, "email", "sms")
    ).astype(object)
    purposes = np.where(
        kinds == "marketing", "marketing", np.where(kinds == "dialogue", "research", "orders")
    ).astype(object)
    send_ids = np.arange(1, n + 1)
    _write(
        data_dir,
        "sends",
        {
            "send_id": send_ids,
            "customer_id": send_customer,
            "decision_id": send_ids,
            "channel": channels,
            "kind": kinds,
            "topic": np.where(kinds == "marketing", "offers", None),
            "sent_at": _times(seconds),
        },
    )
    _write(
        data_dir,
        "contact_decisions",
        {
            "decision_id": send_ids,
            "customer_id": send_customer,
            "purpose_key": purposes,
            "kind": kinds,
            "channel": channels,
            "outcome": ["allowed"] * n,
            "reasons": ["[]"] * n,
            "decided_at": _times(seconds),
            "sent": [True] * n,
        },
    )
    # Quiet hours 22:00-07:00 for a third, set before the year.
    quiet = ids[rng.random(customers) < 0.33]
    _write(
        data_dir,
        "preferences",
        {
            "customer_id": quiet,
            "version": np.ones(len(quiet), dtype=np.int64),
            "document": ['{"quiet_hours":{"end":"07:00:00","start":"22:00:00"},"time_zone":null}']
            * len(quiet),
            "changed": ['["quiet_hours"]'] * len(quiet),
            "method": ["preference_centre"] * len(quiet),
            "recorded_at": _times(np.full(len(quiet), -86400)),
        },
    )
    # Marketing granted by a fifth before the year; a tenth of those withdraw during it.
    granted = ids[rng.random(customers) < 0.2]
    withdrawn = granted[rng.random(len(granted)) < 0.1]
    c_customer = np.concatenate([granted, withdrawn])
    c_seconds = np.concatenate(
        [np.full(len(granted), -86400 * 10), rng.integers(0, span, len(withdrawn))]
    )
    _write(
        data_dir,
        "consents",
        {
            "consent_id": np.arange(1, len(c_customer) + 1),
            "customer_id": c_customer,
            "sequence": np.concatenate([np.ones(len(granted)), np.full(len(withdrawn), 2)]).astype(
                np.int64
            ),
            "purpose_key": ["marketing"] * len(c_customer),
            "decision": ["granted"] * len(granted) + ["withdrawn"] * len(withdrawn),
            "method": ["form"] * len(c_customer),
            "recorded_at": _times(c_seconds),
        },
    )
    # NPS answers from a tenth; cases for half the low scores and for some comments.
    a = customers // 10
    a_seconds = rng.integers(0, span, a)
    scores = rng.integers(0, 11, a)
    _write(
        data_dir,
        "answers",
        {
            "response_id": np.arange(1, a + 1),
            "customer_id": rng.integers(1, customers + 1, a),
            "ask_id": np.arange(1, a + 1),
            "question_key": ["nps"] * a,
            "question_type": ["nps"] * a,
            "score": scores,
            "channel": ["email"] * a,
            "language": ["en"] * a,
            "answered_at": _times(a_seconds),
        },
    )
    low = np.flatnonzero((scores <= 6) & (rng.random(a) < 0.5))
    k = len(low) + customers // 40
    c_created = np.concatenate(
        [a_seconds[low] + rng.integers(0, 5 * 86400, len(low)), rng.integers(0, span, k - len(low))]
    )
    replied = rng.random(k) < 0.97
    resolved = rng.random(k) < 0.95
    _write(
        data_dir,
        "cases",
        {
            "case_id": np.arange(1, k + 1),
            "customer_id": rng.integers(1, customers + 1, k),
            "response_id": np.concatenate([low + 1, np.full(k - len(low), None)]),
            "rule": ["nps<=6"] * len(low) + ["word:refund"] * (k - len(low)),
            "priority": ["normal"] * k,
            "status": np.where(resolved, "resolved", "open"),
            "escalation_level": np.zeros(k, dtype=np.int64),
            "created_at": _times(c_created),
            "first_response_at": pa.array(
                np.where(
                    replied,
                    (int(START.timestamp()) + c_created + rng.integers(600, 30 * 3600, k))
                    * 1_000_000,
                    0,
                ),
                pa.timestamp("us", tz="UTC"),
                mask=~replied,
            ),
            "resolved_at": pa.array(
                np.where(
                    resolved,
                    (int(START.timestamp()) + c_created + rng.integers(3600, 90 * 3600, k))
                    * 1_000_000,
                    0,
                ),
                pa.timestamp("us", tz="UTC"),
                mask=~resolved,
            ),
        },
    )
    r = max(1, customers // 200)
    r_seconds = rng.integers(0, span, r)
    _write(
        data_dir,
        "data_requests",
        {
            "request_id": np.arange(1, r + 1),
            "customer_id": rng.integers(1, customers + 1, r),
            "kind": ["access"] * r,
            "status": ["done"] * r,
            "channel": ["email"] * r,
            "received_at": _times(r_seconds),
            "completed_at": _times(r_seconds + rng.integers(86400, 34 * 86400, r)),
        },
    )


RULES = (
    Rule("complaint-first-reply", catalogue.FIRST_REPLY, {"hours": 24}),
    Rule("complaint-resolved", catalogue.RESOLUTION, {"hours": 72}),
    Rule("message-caps", catalogue.MESSAGE_CAP, {"caps": None}, CAPS),
    Rule("quiet-hours", catalogue.QUIET_HOURS, {}),
    Rule("marketing-stops", catalogue.WITHDRAWAL_STOP, {"hours": 48}),
    Rule("data-requests", catalogue.DATA_REQUEST, {"days": 30}),
    Rule("question-spacing", catalogue.QUESTION_SPACING, {"days": 14}),
    Rule("low-scores-followed-up", catalogue.DETRACTOR_FOLLOWUP, {"days": 7, "max_score": 6}),
)

# -- the same meaning, hand-written for DuckDB ------------------------------------------------

DEADLINE = """
SELECT {id} AS evidence_id, {start} AS started_at, ({done} IS NOT NULL AND {done} <= $now
       AND {done} <= {start} + INTERVAL {length}) AS kept
FROM {table}
WHERE {start} <= $now AND ({done} IS NOT NULL AND {done} <= $now OR {start} + INTERVAL {length} <= $now)
"""
SQL: dict[str, str] = {
    "complaint-first-reply": DEADLINE.format(
        id="case_id", start="created_at", done="first_response_at", length="24 HOUR", table="cases"
    ),
    "complaint-resolved": DEADLINE.format(
        id="case_id", start="created_at", done="resolved_at", length="72 HOUR", table="cases"
    ),
    "data-requests": DEADLINE.format(
        id="request_id",
        start="received_at",
        done="completed_at",
        length="30 DAY",
        table="(SELECT * FROM data_requests WHERE customer_id IS NOT NULL)",
    ),
    "low-scores-followed-up": DEADLINE.format(
        id="response_id",
        start="answered_at",
        done="first_reply",
        length="7 DAY",
        table="""(SELECT a.*, r.first_reply FROM answers a LEFT JOIN (
            SELECT response_id, min(first_response_at) AS first_reply FROM cases
            WHERE response_id IS NOT NULL GROUP BY response_id) r USING (response_id)
          WHERE a.question_type = 'nps' AND a.score IS NOT NULL AND a.score <= 6)""",
    ),
    "message-caps": """
WITH s AS (SELECT *, epoch(sent_at)::BIGINT AS t FROM sends
           WHERE kind IN ('marketing', 'dialogue') AND sent_at <= $now)
SELECT send_id AS evidence_id, sent_at AS started_at, NOT (
  (channel = 'email' AND count(*) OVER (PARTITION BY person_id, channel ORDER BY t
     RANGE BETWEEN 604799 PRECEDING AND CURRENT ROW) > 2)
  OR (channel = 'sms' AND count(*) OVER (PARTITION BY person_id, channel ORDER BY t
     RANGE BETWEEN 604799 PRECEDING AND CURRENT ROW) > 1)) AS kept
FROM s
""",
    "question-spacing": """
SELECT send_id AS evidence_id, sent_at AS started_at,
  coalesce(epoch(sent_at)::BIGINT - epoch(lag(sent_at) OVER (PARTITION BY person_id
    ORDER BY sent_at, send_id))::BIGINT >= 14 * 86400, true) AS kept
FROM sends WHERE kind = 'dialogue' AND sent_at <= $now
""",
    "quiet-hours": """
WITH s AS (SELECT * FROM sends WHERE kind IN ('marketing', 'dialogue') AND sent_at <= $now),
p AS (SELECT s.send_id, max(p.version) AS version FROM s JOIN preferences p
      ON p.customer_id = s.customer_id AND p.recorded_at <= s.sent_at GROUP BY s.send_id),
q AS (SELECT s.*, json_extract_string(pr.document, '$.quiet_hours.start') AS qs,
        json_extract_string(pr.document, '$.quiet_hours.end') AS qe,
        coalesce(json_extract_string(pr.document, '$.time_zone'), c.time_zone, 'UTC') AS zone
      FROM s JOIN p USING (send_id)
      JOIN preferences pr ON pr.customer_id = s.customer_id AND pr.version = p.version
      LEFT JOIN customers c ON c.customer_id = s.customer_id),
m AS (SELECT *, hour(timezone(zone, sent_at)) * 60 + minute(timezone(zone, sent_at)) AS local,
        substr(qs, 1, 2)::INT * 60 + substr(qs, 4, 2)::INT AS a,
        substr(qe, 1, 2)::INT * 60 + substr(qe, 4, 2)::INT AS b
      FROM q WHERE qs IS NOT NULL AND qe IS NOT NULL)
SELECT send_id AS evidence_id, sent_at AS started_at,
  NOT CASE WHEN a < b THEN local >= a AND local < b ELSE local >= a OR local < b END AS kept
FROM m
""",
    "marketing-stops": """
WITH w AS (SELECT * FROM consents WHERE recorded_at <= $now AND decision IN ('withdrawn', 'objected')),
g AS (SELECT w.consent_id, min(g.recorded_at) AS until FROM w JOIN consents g
      ON g.customer_id = w.customer_id AND g.purpose_key = w.purpose_key
      AND g.sequence > w.sequence AND g.decision = 'granted' AND g.recorded_at <= $now
      GROUP BY w.consent_id),
d AS (SELECT w.*, g.until, w.recorded_at + INTERVAL 48 HOUR AS deadline
      FROM w LEFT JOIN g USING (consent_id) WHERE w.recorded_at + INTERVAL 48 HOUR <= $now),
m AS (SELECT s.send_id, s.person_id, s.sent_at, c.purpose_key FROM sends s
      JOIN contact_decisions c USING (decision_id) WHERE s.kind = 'marketing' AND s.sent_at <= $now),
o AS (SELECT d.consent_id, min(m.sent_at) AS at, arg_min(m.send_id, m.sent_at) AS send_id
      FROM d JOIN m ON m.person_id = d.person_id AND m.purpose_key = d.purpose_key
      AND m.sent_at > d.deadline AND (d.until IS NULL OR m.sent_at < d.until)
      GROUP BY d.consent_id)
SELECT coalesce(o.send_id, d.consent_id) AS evidence_id, d.recorded_at AS started_at,
  o.send_id IS NULL AS kept
FROM d LEFT JOIN o USING (consent_id)
""",
}


def sql_answer(con: duckdb.DuckDBPyConnection, key: str, now: datetime) -> tuple[dict, set]:
    query = SQL[key].replace("$now", f"TIMESTAMPTZ '{now.isoformat()}'")
    con.execute(f"CREATE OR REPLACE TEMP VIEW i AS {query}")
    days = {
        d: (int(g), int(t))
        for d, g, t in con.execute(
            "SELECT date_trunc('day', started_at AT TIME ZONE 'UTC')::DATE, "
            "sum(kept::INT), count(*) FROM i GROUP BY 1"
        ).fetchall()
    }
    broken = {int(r[0]) for r in con.execute("SELECT evidence_id FROM i WHERE NOT kept").fetchall()}
    return days, broken


def ibis_answer(model: Model, rule: Rule, now: datetime) -> tuple[dict, set]:
    return answer(measure_one(model, rule, now))


def _timed(run: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    begun = time.perf_counter()
    answer = run(*args)
    return time.perf_counter() - begun, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        began = time.perf_counter()
        generate(data_dir, args.customers, args.days)
        print(
            f"generated {args.customers:,} customers, {args.days} days in {time.perf_counter() - began:.1f} s"
        )
        now = START + timedelta(days=args.days)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        # As every analysis must, the person behind each record through person_map.
        mapped = snapshot_path(data_dir, "person_map")
        con.execute(f"CREATE VIEW person_map AS SELECT * FROM read_parquet('{mapped}')")
        for name in ("customers", "preferences"):
            path = snapshot_path(data_dir, name)
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
        for name in ("sends", "contact_decisions", "consents", "cases", "data_requests", "answers"):
            path = snapshot_path(data_dir, name)
            con.execute(
                f"CREATE VIEW {name} AS SELECT t.*, coalesce(m.person_id, t.customer_id) AS "
                f"person_id FROM read_parquet('{path}') t LEFT JOIN person_map m USING (customer_id)"
            )
        total_ibis = total_sql = 0.0
        for rule in RULES:
            model = Model(ibis.duckdb.connect(), data_dir)
            t_ibis, mine = _timed(ibis_answer, model, rule, now)
            t_sql, theirs = _timed(sql_answer, con, rule.key, now)
            same = mine == theirs
            total_ibis += t_ibis
            total_sql += t_sql
            instances = sum(t for _, t in mine[0].values())
            print(
                f"{rule.key:24} ibis {t_ibis:6.2f} s  sql {t_sql:6.2f} s  "
                f"instances {instances:>9,}  broken {len(mine[1]):>7,}  equal {same}"
            )
            if not same:
                raise SystemExit(f"{rule.key}: the answers differ")
        print(
            f"all promises: ibis {total_ibis:.2f} s, sql {total_sql:.2f} s, "
            f"ratio {total_ibis / total_sql:.2f} (target <= 1.3)"
        )
        # The incremental round after one more day against a whole evaluation, both at `now`:
        # the last round's figures (at `before`) merged with the incremental one's must equal
        # the whole evaluation's.
        before = now - timedelta(days=1)
        full = incremental = 0.0
        for rule in RULES:
            last = measure_one(Model(ibis.duckdb.connect(), data_dir), rule, before)
            since = datetime.combine((before - horizon(rule)).date(), datetime.min.time(), UTC)
            model = Model(ibis.duckdb.connect(), data_dir)
            t_full, whole = _timed(measure_one, model, rule, now)
            model = Model(ibis.duckdb.connect(), data_dir)
            newer = replace(rule, since=since, previous=before, breaches=stored(last))
            t_inc, delta = _timed(measure_one, model, newer, now)
            if merged(last, delta, since) != answer(whole):
                raise SystemExit(f"{rule.key}: the incremental round differs from a whole one")
            full += t_full
            incremental += t_inc
        print(
            f"incremental round after one more day {incremental:.2f} s, whole {full:.2f} s, "
            f"ratio {incremental / full:.2f} (target <= 0.1), merged answers equal True"
        )


def answer(measured: Measured) -> tuple[dict, set]:
    return measured.days, set(measured.breaches.column("evidence_id").to_pylist())


def stored(last: Measured) -> pa.Table:
    """The last round's breaches as the store passes them on to an incremental round."""
    return last.breaches.select(list(BREACH_COLUMNS))


def merged(last: Measured, delta: Measured, since: datetime) -> tuple[dict, set]:
    """What the store keeps after an incremental round: the last round's figures before
    ``since``, less the instances broken since, and the new round's from ``since`` on."""
    days = {day: counts for day, counts in last.days.items() if day < since.date()}
    for day, broken in delta.broken_since.items():
        good, total = days[day]
        days[day] = (good - broken, total)
    days.update(delta.days)
    earlier = last.breaches.filter(pc.less(last.breaches["started_at"], pa.scalar(since)))
    ids = set(earlier.column("evidence_id").to_pylist())
    return days, ids | set(delta.breaches.column("evidence_id").to_pylist())


if __name__ == "__main__":
    main()
