"""Benchmark: decide_batch over a million customers against a hand-written DuckDB query.

    PYTHONPATH=src python benchmarks/contact_policy.py [--customers 1000000] [--repeat 3]

Generation is not timed. Both sides get the same Arrow table and the same intent; the DuckDB
query computes the same answers with zone offsets precomputed for the decision instant (valid
because no zone in the data changes offset within a day of it, which the script checks).
Prints decisions per second for both, the ratio, and how many rows disagree.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa

from tillit.contact import DIALOGUE_PURPOSE, CompanyCap, CompanyPolicy, Intent, clock, decide_batch
from tillit.contact.schema import STATE_SCHEMA, cap_column
from tillit.cores import available_cores
from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel, Period

ZONES = [
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Amsterdam",
    "Europe/London",
]
PURPOSES = ["newsletter", "offers", DIALOGUE_PURPOSE]
TOPICS = ["news", "recipes", "offers", "events"]
QUIET = [
    (21 * 60, 8 * 60),
    (22 * 60, 7 * 60),
    (23 * 60, 7 * 60 + 30),
    (20 * 60, 9 * 60),
    (12 * 60, 13 * 60),
]
NOW = datetime(2025, 6, 4, 19, 30, tzinfo=UTC)  # 21:30 in Scandinavia, 20:30 in London
POLICY = CompanyPolicy(
    purposes={
        "newsletter": LegalBasis.consent,
        "offers": LegalBasis.legitimate_interest,
        DIALOGUE_PURPOSE: LegalBasis.legitimate_interest,
    },
    caps=(CompanyCap(OutboundChannel.email, 2, Period.week), CompanyCap(None, 8, Period.month)),
)
INTENTS = {
    "marketing email, evening": Intent(
        "newsletter", MessageKind.marketing, OutboundChannel.email, "news", NOW
    ),
    "dialogue sms, morning": Intent(
        DIALOGUE_PURPOSE, MessageKind.dialogue, OutboundChannel.sms, "events", NOW.replace(hour=7)
    ),
}


def subsets(rng: np.random.Generator, n: int, items: list[str], p: float) -> pa.ListArray:
    """A random subset of ``items`` per row, each item with probability ``p``."""
    bits = (rng.random((n, len(items))) < p) @ (1 << np.arange(len(items)))
    choices = [[x for i, x in enumerate(items) if m >> i & 1] for m in range(1 << len(items))]
    return pa.array(choices, pa.list_(pa.string())).take(pa.array(bits))


def maybe(
    rng: np.random.Generator,
    n: int,
    p: float,
    values: np.ndarray,
    arrow_type: pa.DataType,
) -> pa.Array:
    return pa.array(values, arrow_type, mask=rng.random(n) >= p)


def send_history(rng: np.random.Generator, n: int) -> pa.ListArray:
    """0-10 capped sends per customer over the last 35 days, ascending within each row."""
    lengths = rng.integers(0, 11, n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    rows = np.repeat(np.arange(n), lengths)
    at = clock.to_us(NOW) - rng.integers(0, 35 * clock.US_PER_DAY, len(rows))
    at = at[np.lexsort((at, rows))]
    channel = rng.choice(np.array([0, 1, 2], dtype=np.uint8), len(rows), p=[0.7, 0.2, 0.1])
    sends = pa.StructArray.from_arrays(
        [
            pa.array(at, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array(channel),
        ],
        names=["at", "channel"],
    )
    return pa.ListArray.from_arrays(pa.array(offsets), sends)


def caps(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    columns = {
        field.name: pa.nulls(n, pa.int32())
        for field in STATE_SCHEMA
        if field.name.startswith("cap_")
    }
    chosen = [
        (OutboundChannel.email, Period.week, 0.4, 1, 6),
        (OutboundChannel.email, Period.day, 0.1, 1, 2),
        (OutboundChannel.sms, Period.week, 0.2, 0, 3),
        (None, Period.month, 0.15, 4, 15),
    ]
    for channel, period, share, low, high in chosen:
        values = rng.integers(low, high, n).astype(np.int32)
        columns[cap_column(channel, period)] = maybe(rng, n, share, values, pa.int32())
    return columns


def channel_bits(rng: np.random.Generator, n: int, p_first_three: float) -> np.ndarray:
    """Random channel masks where email, sms and push are each set with the given odds."""
    bits = rng.integers(0, 64, n).astype(np.uint8) & 0b111000
    for code in range(3):
        bits |= ((rng.random(n) < p_first_three) << code).astype(np.uint8)
    return bits


def customers(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    quiet = rng.integers(0, len(QUIET), n)
    has_quiet = rng.random(n) < 0.6
    pause = clock.to_us(NOW) + rng.integers(-5 * clock.US_PER_DAY, 20 * clock.US_PER_DAY, n)
    chosen = subsets(rng, n, TOPICS, 0.6)
    columns: dict[str, pa.Array] = {
        "customer_id": pa.array([f"cust-{i}" for i in range(n)]),
        "time_zone": pa.DictionaryArray.from_arrays(
            pa.array(rng.integers(0, 5, n).astype(np.int8)), ZONES
        ),
        "erased": pa.array(rng.random(n) < 0.005),
        "suppressed": pa.array(rng.random(n) < 0.01),
        "objected_to_marketing": pa.array(rng.random(n) < 0.05),
        "granted_purposes": subsets(rng, n, PURPOSES, 0.7),
        "refused_purposes": subsets(rng, n, PURPOSES, 0.05),
        "allowed_channels": pa.array(channel_bits(rng, n, 0.85)),
        "reachable_channels": pa.array(channel_bits(rng, n, 0.95)),
        "opted_out_topics": subsets(rng, n, TOPICS, 0.08),
        "chosen_topics": pa.ListArray.from_arrays(
            chosen.offsets, chosen.values, mask=pa.array(rng.random(n) >= 0.3)
        ),
        "pause_until": maybe(rng, n, 0.03, pause, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "quiet_start_minute": pa.array([QUIET[q][0] for q in quiet], pa.int16(), mask=~has_quiet),
        "quiet_end_minute": pa.array([QUIET[q][1] for q in quiet], pa.int16(), mask=~has_quiet),
        **caps(rng, n),
        "capped_sends": send_history(rng, n),
    }
    return pa.table([columns[f.name] for f in STATE_SCHEMA], schema=STATE_SCHEMA)


CODES = {channel: channel.code for channel in OutboundChannel}


def _cap_sql(limit: str, sends: str, period: Period, at_us: int) -> tuple[str, str, str]:
    """SQL for one cap: (denied, deferred, frees_us) over a month's list of sends."""
    length = clock.duration_us(period.length)
    window = f"list_filter({sends}, lambda s: epoch_us(s.at) > {at_us - length})"
    count = f"len({window})"
    full = f"({limit} IS NOT NULL AND {count} >= {limit})"
    frees = f"epoch_us(({window})[{count} - {limit} + 1].at) + {length}"
    return (
        f"({full} AND {limit} = 0)",
        f"({full} AND {limit} > 0)",
        f"CASE WHEN {full} AND {limit} > 0 THEN {frees} END",
    )


def _caps_sql(caps: list[tuple[str, str, Period]], code: str, at_us: int) -> str:
    """WHEN clauses for one cap rule: deny on a full zero cap, else defer to the last free."""
    parts = [_cap_sql(limit, sends, period, at_us) for limit, sends, period in caps]
    if not parts:
        return ""
    denied = " OR ".join(p[0] for p in parts)
    deferred = " OR ".join(p[1] for p in parts)
    until = "greatest(" + ", ".join(f"coalesce({p[2]}, {at_us})" for p in parts) + ")"
    return (
        f"WHEN {denied} THEN ('denied', '{code}', NULL) "
        f"WHEN {deferred} THEN ('deferred', '{code}', {until})"
    )


def baseline_sql(intent: Intent, policy: CompanyPolicy) -> str:
    """The same policy as one DuckDB query, for capped kinds (marketing and dialogue)."""
    at_us = clock.to_us(intent.at)
    day = clock.US_PER_DAY
    offsets = " ".join(f"WHEN '{z}' THEN {clock.offset_us(z, at_us)}" for z in ZONES)
    bit = 1 << intent.channel.code
    basis = policy.purposes.get(intent.purpose)
    legal = {
        None: "TRUE",
        LegalBasis.consent: f"NOT list_contains(granted_purposes, '{intent.purpose}')",
        LegalBasis.legitimate_interest: f"list_contains(refused_purposes, '{intent.purpose}')",
    }.get(basis, "FALSE")
    legal_code = (
        "no_legal_basis"
        if basis is None
        else ("no_consent" if basis is LegalBasis.consent else "objected")
    )
    objected = "objected_to_marketing" if intent.kind is MessageKind.marketing else "FALSE"
    own = [(cap_column(intent.channel, p), "ch_sends", p) for p in Period]
    own += [(cap_column(None, p), "all_sends", p) for p in Period]
    company = [
        (str(c.limit), "all_sends" if c.channel is None else "ch_sends", c.period)
        for c in policy.caps
        if c.channel in (None, intent.channel)
    ]
    month = clock.duration_us(Period.month.length)
    return f"""
    WITH base AS (
      SELECT *,
        list_filter(capped_sends, lambda s: epoch_us(s.at) > {at_us - month} AND epoch_us(s.at) <= {at_us}) AS all_sends,
        list_filter(capped_sends, lambda s: epoch_us(s.at) > {at_us - month} AND epoch_us(s.at) <= {at_us}
                                       AND s.channel = {intent.channel.code}) AS ch_sends,
        ({at_us} + CASE time_zone::VARCHAR {offsets} END) % {day} AS tod,
        quiet_start_minute::BIGINT * 60000000 AS qs, quiet_end_minute::BIGINT * 60000000 AS qe
      FROM states
    ), decided AS (
      SELECT customer_id, CASE
        WHEN erased THEN ('denied', 'erased', NULL)
        WHEN suppressed THEN ('denied', 'suppressed', NULL)
        WHEN {objected} THEN ('denied', 'objected', NULL)
        WHEN {legal} THEN ('denied', '{legal_code}', NULL)
        WHEN allowed_channels & {bit} = 0 THEN ('denied', 'channel_blocked', NULL)
        WHEN reachable_channels & {bit} = 0 THEN ('denied', 'channel_unreachable', NULL)
        WHEN list_contains(opted_out_topics, '{intent.topic}') THEN ('denied', 'topic_opt_out', NULL)
        WHEN chosen_topics IS NOT NULL AND NOT list_contains(chosen_topics, '{intent.topic}')
          THEN ('denied', 'topic_not_chosen', NULL)
        WHEN epoch_us(pause_until) > {at_us} THEN ('deferred', 'paused', epoch_us(pause_until))
        WHEN qs IS NOT NULL AND (CASE WHEN qs < qe THEN tod >= qs AND tod < qe ELSE tod >= qs OR tod < qe END)
          THEN ('deferred', 'quiet_hours', {at_us} + (((qe - tod) % {day}) + {day}) % {day})
        {_caps_sql(own, "customer_cap", at_us)}
        {_caps_sql(company, "company_cap", at_us)}
        ELSE ('allowed', NULL, NULL)
      END AS d FROM base
    )
    SELECT customer_id, d[1] AS outcome, d[2] AS reason, d[3]::BIGINT AS defer_until_us FROM decided
    """


def timed(run: object, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best, result


def mismatches(ours: pa.Table, theirs: pa.Table) -> int:
    until = ours.column("defer_until").cast(pa.int64()).fill_null(-1).to_numpy()
    bad = ours.column("outcome").cast(pa.string()).to_numpy(zero_copy_only=False) != theirs.column(
        "outcome"
    ).to_numpy(zero_copy_only=False)
    bad |= ours.column("reason").cast(pa.string()).fill_null("").to_numpy(
        zero_copy_only=False
    ) != theirs.column("reason").fill_null("").to_numpy(zero_copy_only=False)
    bad |= until != theirs.column("defer_until_us").fill_null(-1).to_numpy()
    return int(bad.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    states = customers(args.customers)
    sends = len(states.column("capped_sends").combine_chunks().flatten())
    print(
        f"generated {args.customers:,} customers, {sends:,} sends in {time.perf_counter() - started:.1f}s (not timed)"
    )
    connection = duckdb.connect()
    connection.register("states", states)
    threads = connection.sql("SELECT current_setting('threads')").fetchall()[0][0]
    cores = available_cores()
    print(f"duckdb {duckdb.__version__}, threads={threads}; decide_batch threads={cores}")
    for name, intent in INTENTS.items():
        at_us = clock.to_us(intent.at)
        assert all(clock.next_transition_us(z, at_us, clock.US_PER_DAY) is None for z in ZONES)
        sql = baseline_sql(intent, POLICY)
        ours_s, ours = timed(
            lambda intent=intent: decide_batch(states=states, intent=intent, policy=POLICY),
            args.repeat,
        )
        one_s, _ = timed(
            lambda intent=intent: decide_batch(
                states=states, intent=intent, policy=POLICY, threads=1
            ),
            args.repeat,
        )
        base_s, base = timed(lambda sql=sql: connection.sql(sql).to_arrow_table(), args.repeat)
        n = args.customers
        outcomes = ours.column("reason").cast(pa.string()).fill_null("allowed").value_counts()  # type: ignore[union-attr]
        print(
            f"\n{name}: {intent.kind.value} via {intent.channel.value} at {intent.at.isoformat()}"
        )
        print(
            "  reasons: "
            + ", ".join(f"{v['values']}={v['counts']:,}" for v in outcomes.to_pylist())
        )
        print(
            f"  decide_batch: {n / ours_s:,.0f} decisions/s ({ours_s * 1000:.0f} ms, "
            f"{cores} threads; on 1 thread {n / one_s:,.0f}/s, {one_s * 1000:.0f} ms)"
        )
        print(f"  duckdb query: {n / base_s:,.0f} decisions/s ({base_s * 1000:.0f} ms)")
        print(f"  ratio decide_batch time / duckdb time: {ours_s / base_s:.2f} (target <= 1.20)")
        print(f"  mismatches: {mismatches(ours, base):,} of {n:,}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
