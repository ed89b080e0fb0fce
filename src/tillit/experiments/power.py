"""Power, sample size and minimum detectable effect for a two-sided test of a difference.

The normal approximation of ``statistics.compare_means``/``compare_proportions``: with
se = √(σ_c²/n_c + σ_v²/n_v), power = Φ(δ/se − z₁₋α/₂) + Φ(−δ/se − z₁₋α/₂), both tails counted
(as statsmodels' ``NormalIndPower`` does). Sample size and MDE solve that equation for n or δ
with scipy's Brent root finder. Formulas and references: ``docs/experiments.md``.
"""

from __future__ import annotations

import math

from scipy import optimize, stats

from tillit.experiments.statistics import ALPHA

POWER = 0.8


def _check(alpha: float, power: float | None = None) -> None:
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1")
    if power is not None and not alpha < power < 1:
        raise ValueError("power must lie between alpha and 1")


def power(
    *,
    effect: float,
    sd: float,
    n_control: float,
    ratio: float = 1.0,
    alpha: float = ALPHA,
    sd_variant: float | None = None,
) -> float:
    """The chance of a significant result when the true difference is ``effect``, with
    ``n_control`` control units and ``ratio × n_control`` variant units."""
    _check(alpha)
    se = math.sqrt(
        sd**2 / n_control + (sd if sd_variant is None else sd_variant) ** 2 / (ratio * n_control)
    )
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(effect) / se
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def sample_size(
    *,
    effect: float,
    sd: float,
    power: float = POWER,
    alpha: float = ALPHA,
    ratio: float = 1.0,
    sd_variant: float | None = None,
) -> int:
    """Control units needed (the variant needs ``ratio`` times as many), rounded up."""
    _check(alpha, power)
    if effect == 0:
        raise ValueError("the effect to detect must not be 0")

    def gap(n: float) -> float:
        return (
            _power_at(effect=effect, sd=sd, n=n, ratio=ratio, alpha=alpha, sd_variant=sd_variant)
            - power
        )

    high = 2.0
    while gap(high) < 0:
        high *= 2
    return math.ceil(optimize.brentq(gap, 1e-9, high, xtol=1e-9))


def _power_at(
    *, effect: float, sd: float, n: float, ratio: float, alpha: float, sd_variant: float | None
) -> float:
    return power(effect=effect, sd=sd, n_control=n, ratio=ratio, alpha=alpha, sd_variant=sd_variant)


def minimum_detectable_effect(
    *,
    sd: float,
    n_control: float,
    power: float = POWER,
    alpha: float = ALPHA,
    ratio: float = 1.0,
) -> float:
    """The smallest true difference found with ``power`` at these sample sizes."""
    _check(alpha, power)
    se = math.sqrt(sd**2 / n_control + sd**2 / (ratio * n_control))
    return float(
        optimize.brentq(
            lambda d: (
                _power_at(effect=d, sd=sd, n=n_control, ratio=ratio, alpha=alpha, sd_variant=None)
                - power
            ),
            1e-12 * se,
            20 * se,
            xtol=1e-14 * max(se, 1e-300),
        )
    )


def proportion_sample_size(
    *,
    baseline: float,
    difference: float,
    power: float = POWER,
    alpha: float = ALPHA,
    ratio: float = 1.0,
) -> int:
    """Control units to detect a conversion rate moving from ``baseline`` by ``difference``
    (absolute), each group with its own variance p(1 − p)."""
    target = baseline + difference
    if not (0 < baseline < 1 and 0 < target < 1):
        raise ValueError("the baseline and baseline + difference must lie between 0 and 1")
    return sample_size(
        effect=difference,
        sd=math.sqrt(baseline * (1 - baseline)),
        sd_variant=math.sqrt(target * (1 - target)),
        power=power,
        alpha=alpha,
        ratio=ratio,
    )


def proportion_minimum_detectable_effect(
    *,
    baseline: float,
    n_control: float,
    power: float = POWER,
    alpha: float = ALPHA,
    ratio: float = 1.0,
) -> float:
    """The smallest absolute rise from ``baseline`` found with ``power`` at these sizes."""
    _check(alpha, power)
    if not 0 < baseline < 1:
        raise ValueError("the baseline must lie between 0 and 1")

    def gap(d: float) -> float:
        target = baseline + d
        return (
            _power_at(
                effect=d,
                sd=math.sqrt(baseline * (1 - baseline)),
                n=n_control,
                ratio=ratio,
                alpha=alpha,
                sd_variant=math.sqrt(target * (1 - target)),
            )
            - power
        )

    top = 1 - baseline - 1e-9
    if gap(top) < 0:
        raise ValueError("no rise from this baseline reaches that power at these sample sizes")
    return float(optimize.brentq(gap, 1e-12, top, xtol=1e-12))
