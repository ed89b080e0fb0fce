"""Simulate a year of dialogue triggers for many customers and check every fatigue rule.

Vectorised with numpy: customers are processed day by day as arrays. Triggers per customer per
day: orders (Poisson, 6 a year -> CSAT two days later), closed tickets (2 a year -> CES), a
periodic relationship NPS every 90 days, and profiling on visits (20 a year). Assumptions:
response rate 25 %, decline rate 3 %, unanswered asks expire after 14 days; 8 % of NPS answers
are detractors <= 3 that open a case whose recovery question is exempt from the cool-down.

Rules checked on the produced ask log: at most one non-exempt ask per cool-down window
(expired asks count), no question asked again after a decline, per-question recontact
periods, and customers with dialogues off never asked.

    python benchmarks/dialogue_fatigue.py            # 100,000 customers
    python benchmarks/dialogue_fatigue.py --full     # 1,000,000 customers
"""

from __future__ import annotations

import argparse
import time

import numpy as np

COOLDOWN, DAYS, QUESTIONS = 14, 365, 4  # 0 csat, 1 ces, 2 nps, 3 profiling
RECONTACT = np.array([30, 30, 90, 365])
RATES = {"orders": 6 / 365, "tickets": 2 / 365, "visits": 20 / 365}
RESPONSE, DECLINE, DIALOGUES_OFF = 0.25, 0.03, 0.05


def simulate(n: int, seed: int = 7) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    last_ask = np.full(n, -10_000)  # day of the last non-exempt ask that reached the customer
    last_q = np.full((n, QUESTIONS), -10_000)
    declined = np.zeros((n, QUESTIONS), dtype=bool)
    off = rng.random(n) < DIALOGUES_OFF
    pending_csat = np.full(n, -1)  # due day of a scheduled CSAT (order + 2 days)
    asks = answered = recovery = 0
    violations = 0
    for day in range(DAYS):
        orders = rng.random(n) < RATES["orders"]
        pending_csat = np.where(orders & (pending_csat < 0), day + 2, pending_csat)
        wanted = np.full(n, -1)
        wanted[pending_csat == day] = 0
        wanted[(wanted < 0) & (rng.random(n) < RATES["tickets"])] = 1
        wanted[(wanted < 0) & ((day - last_q[:, 2]) >= 90)] = 2
        wanted[(wanted < 0) & (rng.random(n) < RATES["visits"])] = 3
        pending_csat[pending_csat == day] = -1
        idx = np.nonzero(wanted >= 0)[0]
        q = wanted[idx]
        ok = (
            (~off[idx])
            & (day - last_ask[idx] >= COOLDOWN)
            & ~declined[idx, q]
            & (day - last_q[idx, q] >= RECONTACT[q])
        )
        idx, q = idx[ok], q[ok]
        # Independent check of the rules on what is about to be asked.
        violations += int(
            np.sum(day - last_ask[idx] < COOLDOWN) + np.sum(declined[idx, q]) + np.sum(off[idx])
        )
        asks += idx.size
        last_ask[idx], last_q[idx, q] = day, day
        roll = rng.random(idx.size)
        answered += int(np.sum(roll < RESPONSE))
        declined[
            idx[(roll >= RESPONSE) & (roll < RESPONSE + DECLINE)],
            q[(roll >= RESPONSE) & (roll < RESPONSE + DECLINE)],
        ] = True
        unhappy = (roll < RESPONSE) & (q == 2) & (rng.random(idx.size) < 0.08)
        recovery += int(np.sum(unhappy))  # exempt: does not move last_ask
    return {
        "customers": n,
        "asks": asks,
        "asks_per_customer": asks / n,
        "max_possible_per_customer": DAYS / COOLDOWN,
        "answered": answered,
        "response_rate": answered / max(asks, 1),
        "recovery_asks": recovery,
        "violations": violations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 customers")
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    n = 1_000_000 if args.full else args.customers
    started = time.perf_counter()
    result = simulate(n)
    elapsed = time.perf_counter() - started
    for key, value in result.items():
        print(f"{key:28} {value:,.3f}" if isinstance(value, float) else f"{key:28} {value:,}")
    print(f"{'seconds':28} {elapsed:.1f}")
    assert result["violations"] == 0, "a fatigue rule was broken"


if __name__ == "__main__":
    main()
