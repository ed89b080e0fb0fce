"""Simulate a year of dialogue triggers for many customers and check every fatigue rule.

Customers are processed day by day as numpy arrays. Triggers per customer per day: orders
(Poisson, 6 a year -> CSAT two days later), closed tickets (2 a year -> CES), a periodic
relationship NPS every 90 days, and profiling on visits (20 a year). Assumptions: response rate
25 %, decline rate 3 %, the rest expire unanswered (and still count); 5 % turned dialogues off;
8 % of NPS answers are detractors whose case ends in a recovery question, exempt from the
cool-down.

Two checks, neither of which reuses the simulation's own filter:
- an audit of the produced ask log (sorted per customer): no two ordinary asks closer than the
  cool-down, nothing asked again after a decline, per-question recontact periods, no asks to
  customers who turned dialogues off;
- a replay of a sample of customers through the product's own rule,
  ``tillit.dialogues.fatigue.blocked_by``, on the same triggers and answers: its asks must be
  the simulation's asks, day for day.

    python benchmarks/dialogue_fatigue.py            # 100,000 customers
    python benchmarks/dialogue_fatigue.py --full     # 1,000,000 customers
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from tillit.dialogues.fatigue import PastAsk, blocked_by

COOLDOWN, DAYS, QUESTIONS = 14, 365, 4  # 0 csat, 1 ces, 2 nps, 3 profiling
RECONTACT = np.array([30, 30, 90, 365])
RATES = {"orders": 6 / 365, "tickets": 2 / 365, "visits": 20 / 365}
RESPONSE, DECLINE, DIALOGUES_OFF = 0.25, 0.03, 0.05
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def simulate(n: int, seed: int = 7, sample: int = 2000) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    last_ask = np.full(n, -10_000)  # day of the last ordinary ask that reached the customer
    last_q = np.full((n, QUESTIONS), -10_000)
    declined = np.zeros((n, QUESTIONS), dtype=bool)
    off = rng.random(n) < DIALOGUES_OFF
    pending_csat = np.full(n, -1)  # due day of a scheduled CSAT (order + 2 days)
    log_customer, log_day, log_q, log_outcome = [], [], [], []
    wanted_sample = np.full((DAYS, min(sample, n)), -1)
    outcome_sample = np.zeros((DAYS, min(sample, n)))
    answered = recovery = 0
    for day in range(DAYS):
        orders = rng.random(n) < RATES["orders"]
        pending_csat = np.where(orders & (pending_csat < 0), day + 2, pending_csat)
        wanted = np.full(n, -1)
        wanted[pending_csat == day] = 0
        wanted[(wanted < 0) & (rng.random(n) < RATES["tickets"])] = 1
        wanted[(wanted < 0) & ((day - last_q[:, 2]) >= 90)] = 2
        wanted[(wanted < 0) & (rng.random(n) < RATES["visits"])] = 3
        pending_csat[pending_csat == day] = -1
        roll_all = rng.random(n)  # how each customer would answer today's ask
        wanted_sample[day] = np.where(off[:sample], -1, wanted[:sample])
        outcome_sample[day] = roll_all[:sample]
        idx = np.nonzero((wanted >= 0) & ~off)[0]
        q = wanted[idx]
        ok = (
            (day - last_ask[idx] >= COOLDOWN)
            & ~declined[idx, q]
            & (day - last_q[idx, q] >= RECONTACT[q])
        )
        idx, q = idx[ok], q[ok]
        roll = roll_all[idx]
        log_customer.append(idx)
        log_day.append(np.full(idx.size, day))
        log_q.append(q)
        log_outcome.append(roll)
        last_ask[idx], last_q[idx, q] = day, day
        answered += int(np.sum(roll < RESPONSE))
        now_declined = (roll >= RESPONSE) & (roll < RESPONSE + DECLINE)
        declined[idx[now_declined], q[now_declined]] = True
        unhappy = (roll < RESPONSE) & (q == 2) & (rng.random(idx.size) < 0.08)
        recovery += int(np.sum(unhappy))  # exempt: does not move last_ask
    log = (
        np.concatenate(log_customer),
        np.concatenate(log_day),
        np.concatenate(log_q),
        np.concatenate(log_outcome),
    )
    asks = int(log[0].size)
    return {
        "customers": n,
        "asks": asks,
        "asks_per_customer": asks / n,
        "max_possible_per_customer": DAYS / COOLDOWN,
        "answered": answered,
        "response_rate": answered / max(asks, 1),
        "recovery_asks": recovery,
        "_log": log,
        "_off": off,
        "_sample": (wanted_sample, outcome_sample),
    }


def audit(log: tuple[np.ndarray, ...], off: np.ndarray) -> dict[str, int]:
    """Rule breaches found in the ask log itself, sorted per customer and day."""
    customer, day, question, outcome = log
    order = np.lexsort((day, customer))
    customer, day, question, outcome = customer[order], day[order], question[order], outcome[order]
    same_customer = customer[1:] == customer[:-1]
    cooldown = int(np.sum(same_customer & (day[1:] - day[:-1] < COOLDOWN)))
    recontact = after_decline = 0
    for q in range(QUESTIONS):
        mask = question == q
        c, d, o = customer[mask], day[mask], outcome[mask]
        same = c[1:] == c[:-1]
        recontact += int(np.sum(same & (d[1:] - d[:-1] < RECONTACT[q])))
        was_declined = (o[:-1] >= RESPONSE) & (o[:-1] < RESPONSE + DECLINE)
        after_decline += int(np.sum(same & was_declined))
    return {
        "cooldown": cooldown,
        "recontact": recontact,
        "after_decline": after_decline,
        "asked_while_off": int(np.sum(off[customer])),
    }


def replay_with_product_rules(wanted: np.ndarray, outcome: np.ndarray) -> list[list[tuple]]:
    """The sample's asks when ``tillit.dialogues.fatigue.blocked_by`` decides each one."""
    asks: list[list[tuple]] = [[] for _ in range(wanted.shape[1])]
    histories: list[list[PastAsk]] = [[] for _ in range(wanted.shape[1])]
    for day in range(DAYS):
        now = START + timedelta(days=day)
        for customer in np.nonzero(wanted[day] >= 0)[0]:
            q = int(wanted[day, customer])
            reason = blocked_by(
                histories[customer],
                question_id=q,
                recontact_days=int(RECONTACT[q]),
                now=now,
                cooldown=timedelta(days=COOLDOWN),
            )
            if reason is not None:
                continue
            roll = outcome[day, customer]
            status = (
                "answered"
                if roll < RESPONSE
                else "declined"
                if roll < RESPONSE + DECLINE
                else "expired"
            )
            # Asked this morning, so "within the cool-down" means strictly after now - 14 days.
            histories[customer].append(PastAsk(question_id=q, created_at=now, status=status))
            asks[customer].append((day, q))
    return asks


def sample_asks_of_simulation(log: tuple[np.ndarray, ...], size: int) -> list[list[tuple]]:
    customer, day, question, _ = log
    asks: list[list[tuple]] = [[] for _ in range(size)]
    for c, d, q in zip(customer, day, question, strict=True):
        if c < size:
            asks[int(c)].append((int(d), int(q)))
    return asks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 customers")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--sample", type=int, default=2000, help="customers replayed through the product's own rule"
    )
    args = parser.parse_args()
    n = 1_000_000 if args.full else args.customers
    started = time.perf_counter()
    result = simulate(n, sample=args.sample)
    elapsed = time.perf_counter() - started
    breaches = audit(result["_log"], result["_off"])  # type: ignore[arg-type]
    wanted, outcome = result["_sample"]  # type: ignore[misc]
    replay_started = time.perf_counter()
    product = replay_with_product_rules(wanted, outcome)
    replay_seconds = time.perf_counter() - replay_started
    simulated = sample_asks_of_simulation(result["_log"], wanted.shape[1])  # type: ignore[arg-type]
    disagreeing = sum(a != b for a, b in zip(product, simulated, strict=True))
    for key, value in result.items():
        if not key.startswith("_"):
            print(f"{key:28} {value:,.3f}" if isinstance(value, float) else f"{key:28} {value:,}")
    print(f"{'seconds':28} {elapsed:.1f}")
    print(f"{'breaches found in the log':28} {breaches}")
    print(
        f"{'replayed via blocked_by':28} {wanted.shape[1]:,} customers, "
        f"{sum(map(len, product)):,} asks, {replay_seconds:.1f} s"
    )
    print(f"{'customers disagreeing':28} {disagreeing}")
    assert not any(breaches.values()), "a fatigue rule was broken"
    assert disagreeing == 0, "the simulation and the product's rule disagree"


if __name__ == "__main__":
    main()
