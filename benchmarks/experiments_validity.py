"""The experiments' statistics on simulated data whose truth is known (issue 18's validity bars):

- A/A: experiments of 10,000 units looked at 20 times; the always-valid sequence's
  false-positive rate (bar: at most 0.05) beside a fixed-horizon test looked at as often.
- Coverage: A/B with a known effect; how often the 95 % intervals hold it (bar: 0.94-0.96).
- CUPED: pre-period correlation rho = 0.7; the adjusted variance over the plain one (bar:
  within 5 % of 1 - rho^2).
- SRM: a 50.5/49.5 split of 1,000,000 units is flagged; fair splits flagged at most 0.1 %.

Every figure comes from tillit.experiments.statistics itself, fed per-look sufficient statistics
of normally distributed values (seeded; --seed changes it).

    .venv/bin/python benchmarks/experiments_validity.py [--runs 2000] [--seed 18]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tillit.experiments.statistics import (
    CovariateSample,
    Sample,
    compare_cuped,
    compare_means,
    sample_ratio_mismatch,
    sequential,
)

UNITS, LOOKS, CHUNK = 10_000, 20, 100


def _looks(rng: np.random.Generator, runs: int, shift: float) -> tuple[np.ndarray, ...]:
    """Cumulative n, mean and variance at each look of one arm (UNITS/2 units), per run."""
    per_arm = UNITS // 2
    values = rng.normal(shift, 1.0, (runs, per_arm))
    n = np.linspace(per_arm / LOOKS, per_arm, LOOKS).astype(int)
    sums = values.cumsum(axis=1)[:, n - 1]
    squares = (values**2).cumsum(axis=1)[:, n - 1]
    means = sums / n
    return n, means, (squares - n * means**2) / (n - 1)


def peeking(runs: int, rng: np.random.Generator) -> tuple[float, float]:
    """False-positive rates over A/A runs, rejecting at the first of LOOKS looks that excludes
    0: (always-valid sequence, fixed-horizon interval)."""
    rejected = np.zeros(2, int)
    for start in range(0, runs, CHUNK):
        size = min(CHUNK, runs - start)
        n, mc, vc = _looks(rng, size, 0.0)
        _, mv, vv = _looks(rng, size, 0.0)
        for run in range(size):
            hit = [False, False]
            for look in range(LOOKS):
                fixed = compare_means(
                    Sample(int(n[look]), mc[run, look], vc[run, look]),
                    Sample(int(n[look]), mv[run, look], vv[run, look]),
                )
                for index, found in enumerate((sequential(fixed), fixed)):
                    hit[index] |= found.ci_low > 0 or found.ci_high < 0
            rejected += hit
    return rejected[0] / runs, rejected[1] / runs


def coverage(runs: int, rng: np.random.Generator, effect: float = 0.03) -> tuple[float, float]:
    """Share of runs whose interval holds the true effect: (fixed 95 %, always-valid)."""
    covered = np.zeros(2, int)
    for _ in range(runs):
        control = Sample.of(rng.normal(0.0, 1.0, UNITS // 2))
        variant = Sample.of(rng.normal(effect, 1.0, UNITS // 2))
        fixed = compare_means(control, variant)
        for index, found in enumerate((fixed, sequential(fixed))):
            covered[index] += found.ci_low <= effect <= found.ci_high
    return covered[0] / runs, covered[1] / runs


def cuped(rng: np.random.Generator, rho: float = 0.7, n: int = 500_000) -> float:
    """The CUPED-adjusted variance of the difference over the plain one."""
    groups = []
    for effect in (0.0, 0.02):
        pre = rng.normal(0.0, 1.0, n)
        value = rho * pre + np.sqrt(1 - rho**2) * rng.normal(0.0, 1.0, n) + effect
        groups.append(CovariateSample.of(value, pre))
    plain = compare_means(*(Sample(g.n, g.mean, g.variance) for g in groups))
    adjusted = compare_cuped(*groups)
    return adjusted.standard_error**2 / plain.standard_error**2


def srm(rng: np.random.Generator, runs: int) -> tuple[float, float]:
    """(p-value of a 50.5/49.5 split of 1,000,000, share of fair splits flagged)."""
    weights = {"control": 1.0, "variant": 1.0}
    skewed = sample_ratio_mismatch({"control": 505_000, "variant": 495_000}, weights)
    fair = rng.binomial(1_000_000, 0.5, runs)
    flagged = sum(
        sample_ratio_mismatch({"control": int(c), "variant": 1_000_000 - int(c)}, weights).mismatch
        for c in fair
    )
    return skewed.p_value, flagged / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--srm-runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    always, fixed = peeking(args.runs, rng)
    print(f"A/A, {args.runs} experiments of {UNITS:,} units, {LOOKS} looks each:")
    print(f"  always-valid sequence false-positive rate  {always:.4f}  (bar: <= 0.05)")
    print(f"  fixed-horizon test, peeked as often        {fixed:.4f}")

    fixed_cover, always_cover = coverage(args.runs, rng)
    print(f"Coverage, {args.runs} A/B experiments with a known effect:")
    print(f"  fixed-horizon 95 % interval                {fixed_cover:.4f}  (bar: 0.94-0.96)")
    print(f"  always-valid sequence                      {always_cover:.4f}")

    ratio = cuped(rng)
    print("CUPED, rho = 0.7:")
    print(
        f"  adjusted / plain variance                  {ratio:.4f}  "
        f"(1 - rho^2 = 0.51; off by {abs(ratio / 0.51 - 1):.1%}, bar: within 5 %)"
    )

    skewed_p, fair_share = srm(rng, args.srm_runs)
    print("Sample-ratio mismatch (flagged at p < 0.001):")
    print(f"  50.5/49.5 of 1,000,000: p = {skewed_p:.3g}, flagged {skewed_p < 0.001}")
    print(
        f"  fair splits flagged                        {fair_share:.4f} of {args.srm_runs:,}"
        "  (bar: <= 0.001; 0.001 is the threshold's own expected rate)"
    )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
