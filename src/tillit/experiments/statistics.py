"""Comparing each variant with the control: pure functions over sufficient statistics.

Every estimator takes per-variant summaries (n, means, variances, covariances), never rows, so
the analytics layer can compute them where the data lives (one aggregate query per metric) and
hand them here. Each formula and its reference is in ``docs/experiments.md``; scipy's special
functions supply the distributions (t, normal, chi-square), and the p-value adjustments across
metrics are SciPy's (Benjamini–Hochberg) or ours (Holm, see ``holm_p_values``).

- ``compare_means``        Welch's t on the difference of means (unequal variances)
- ``compare_proportions``  Wald z on the difference of two proportions (unpooled)
- ``compare_ratios``       a ratio of two per-unit sums (revenue per order), delta method
- ``compare_cuped``        CUPED: the metric adjusted by its pre-exposure value, then Welch
- ``sequential``           any of the above as an always-valid confidence sequence
- ``holm``, ``benjamini_hochberg``  adjusted p-values and intervals across metrics
- ``sample_ratio_mismatch``  chi-square of the observed split against the weights
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import special, stats

ALPHA = 0.05
SRM_THRESHOLD = 0.001  # a split this unlikely under the weights is a broken assignment
# The sample size (both groups together) at which a confidence sequence is tightest: GrowthBook's
# default tuning parameter. Too small or too large only widens the sequence, never breaks it.
DEFAULT_TUNING = 5000


@dataclass(frozen=True)
class Sample:
    """One variant's metric: ``n`` units, their mean and their variance (ddof 1)."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Sample:
        array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
        return cls(n=array.size, mean=float(array.mean()), variance=float(array.var(ddof=1)))

    @classmethod
    def proportion(cls, successes: int, n: int) -> Sample:
        """A conversion rate; its variance is p(1 − p), Wald's."""
        if not 0 <= successes <= n:
            raise ValueError(f"successes must lie between 0 and n ({successes} of {n})")
        p = successes / n
        return cls(n=n, mean=p, variance=p * (1 - p))


@dataclass(frozen=True)
class RatioSample:
    """A ratio metric (Σ numerator / Σ denominator over units, e.g. revenue per order) in one
    variant: the per-unit means, variances and covariance of numerator and denominator."""

    n: int
    mean_numerator: float
    mean_denominator: float
    variance_numerator: float
    variance_denominator: float
    covariance: float

    @classmethod
    def of(cls, numerators: Iterable[float], denominators: Iterable[float]) -> RatioSample:
        x, y = np.asarray(list(numerators), float), np.asarray(list(denominators), float)
        cov = np.cov(x, y, ddof=1)
        return cls(x.size, float(x.mean()), float(y.mean()), cov[0, 0], cov[1, 1], cov[0, 1])

    @property
    def ratio(self) -> float:
        return self.mean_numerator / self.mean_denominator

    @property
    def variance_of_ratio(self) -> float:
        """Var(X̄/Ȳ) by the delta method (Deng, Knoblich and Lu 2018)."""
        mx, my = self.mean_numerator, self.mean_denominator
        return (
            self.variance_numerator / my**2
            - 2 * mx * self.covariance / my**3
            + mx**2 * self.variance_denominator / my**4
        ) / self.n


@dataclass(frozen=True)
class CovariateSample:
    """A metric with its pre-exposure value per unit (CUPED's covariate) in one variant."""

    n: int
    mean: float
    variance: float
    mean_pre: float
    variance_pre: float
    covariance: float

    @classmethod
    def of(cls, values: Iterable[float], pre: Iterable[float]) -> CovariateSample:
        y, x = np.asarray(list(values), float), np.asarray(list(pre), float)
        cov = np.cov(y, x, ddof=1)
        return cls(y.size, float(y.mean()), cov[0, 0], float(x.mean()), cov[1, 1], cov[0, 1])


@dataclass(frozen=True)
class ConfidenceSequence:
    """What widens a comparison into an always-valid confidence sequence: the total units so
    far and the mixing parameter ρ (see ``sequential``)."""

    units: int
    rho: float


@dataclass(frozen=True)
class Comparison:
    """One variant against the control on one metric.

    ``difference`` = variant − control, with its ``ci_low``..``ci_high`` interval at 1 − alpha;
    ``relative_lift`` = variant / control − 1 with its interval (NaN when the control's mean is
    0). ``adjusted_*`` are filled by ``holm`` or ``benjamini_hochberg``."""

    metric: str
    variant: str
    control: str
    method: str
    n_control: int
    n_variant: int
    mean_control: float
    mean_variant: float
    difference: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    relative_lift: float
    lift_standard_error: float
    lift_ci_low: float
    lift_ci_high: float
    alpha: float = ALPHA
    df: float | None = None  # Student t degrees of freedom; None: the normal distribution
    sequence: ConfidenceSequence | None = None  # set: the intervals and p-value are always valid
    correction: str | None = None
    adjusted_p_value: float | None = None
    adjusted_ci_low: float | None = None
    adjusted_ci_high: float | None = None
    adjusted_lift_ci_low: float | None = None
    adjusted_lift_ci_high: float | None = None

    @property
    def significant(self) -> bool:
        p = self.p_value if self.adjusted_p_value is None else self.adjusted_p_value
        return p < self.alpha


# ---- fixed-horizon comparisons -----------------------------------------------------------


def _half_width(
    se: float, alpha: float, df: float | None, sequence: ConfidenceSequence | None
) -> float:
    if sequence is not None:
        return _sequence_half_width(se, alpha, sequence)
    # scipy.special's ufuncs: the same quantiles as stats.norm/stats.t, without their overhead.
    q = 1 - alpha / 2
    quantile = special.ndtri(q) if df is None or math.isinf(df) else special.stdtrit(df, q)
    return float(quantile * se)


def _p_value(estimate: float, se: float, df: float | None) -> float:
    if se == 0:
        return 1.0 if estimate == 0 else 0.0
    z = abs(estimate) / se
    tail = special.ndtr(-z) if df is None or math.isinf(df) else special.stdtr(df, -z)
    return float(2 * tail)


def _lift(control: Sample, variant: Sample) -> tuple[float, float]:
    """variant/control − 1 and its standard error by the delta method (independent groups)."""
    if control.mean == 0:
        return math.nan, math.nan
    ratio = variant.mean / control.mean
    variance = variant.variance / (
        variant.n * control.mean**2
    ) + variant.mean**2 * control.variance / (control.n * control.mean**4)
    return ratio - 1, math.sqrt(variance)


def _compare(
    metric: str,
    names: tuple[str, str],
    control: Sample,
    variant: Sample,
    *,
    method: str,
    df: float | None,
    alpha: float,
    lift: tuple[float, float] | None = None,
) -> Comparison:
    for sample in (control, variant):
        if sample.n < 2:
            raise ValueError(f"{metric}: every variant needs at least 2 units")
    difference = variant.mean - control.mean
    se = math.sqrt(variant.variance / variant.n + control.variance / control.n)
    width = _half_width(se, alpha, df, None)
    relative, lift_se = lift or _lift(control, variant)
    lift_width = _half_width(lift_se, alpha, None, None) if not math.isnan(lift_se) else math.nan
    return Comparison(
        metric=metric,
        variant=names[1],
        control=names[0],
        method=method,
        n_control=control.n,
        n_variant=variant.n,
        mean_control=control.mean,
        mean_variant=variant.mean,
        difference=difference,
        standard_error=se,
        ci_low=difference - width,
        ci_high=difference + width,
        p_value=_p_value(difference, se, df),
        relative_lift=relative,
        lift_standard_error=lift_se,
        lift_ci_low=relative - lift_width,
        lift_ci_high=relative + lift_width,
        alpha=alpha,
        df=df,
    )


def welch_df(control: Sample, variant: Sample) -> float:
    """The Welch–Satterthwaite degrees of freedom."""
    a, b = control.variance / control.n, variant.variance / variant.n
    if a + b == 0:
        return math.inf
    return (a + b) ** 2 / (a**2 / (control.n - 1) + b**2 / (variant.n - 1))


def compare_means(
    control: Sample,
    variant: Sample,
    *,
    metric: str = "metric",
    names: tuple[str, str] = ("control", "variant"),
    alpha: float = ALPHA,
) -> Comparison:
    """Welch's unequal-variance t-test and interval on the difference of means."""
    return _compare(
        metric, names, control, variant, method="welch", df=welch_df(control, variant), alpha=alpha
    )


def compare_proportions(
    control: Sample,
    variant: Sample,
    *,
    metric: str = "metric",
    names: tuple[str, str] = ("control", "variant"),
    alpha: float = ALPHA,
) -> Comparison:
    """The Wald z-test and interval for p_variant − p_control, each group's own variance
    (``Sample.proportion``), so the test and the interval always agree."""
    return _compare(metric, names, control, variant, method="proportion", df=None, alpha=alpha)


def compare_ratios(
    control: RatioSample,
    variant: RatioSample,
    *,
    metric: str = "metric",
    names: tuple[str, str] = ("control", "variant"),
    alpha: float = ALPHA,
) -> Comparison:
    """Ratio metrics (per-unit numerators and denominators): each ratio's variance by the delta
    method, then a normal interval on their difference; the lift by the delta method again."""
    for sample in (control, variant):
        if sample.mean_denominator == 0:
            raise ValueError(f"{metric}: a variant's denominator sums to 0")
    vc, vt = control.variance_of_ratio, variant.variance_of_ratio
    # As Samples whose variance/n is the ratio's variance, so _compare's arithmetic applies.
    c = Sample(control.n, control.ratio, vc * control.n)
    t = Sample(variant.n, variant.ratio, vt * variant.n)
    return _compare(metric, names, c, t, method="delta", df=None, alpha=alpha)


@dataclass(frozen=True)
class CupedAdjustment:
    theta: float
    mean_pre: float  # over both groups
    control: Sample
    variant: Sample


def cuped_adjustment(control: CovariateSample, variant: CovariateSample) -> CupedAdjustment:
    """θ = Cov(Y, X) / Var(X) over both groups together (Deng et al. 2013, section 3.3), and
    each group's adjusted mean Ȳ − θ(X̄ − X̄_all) and variance Var(Y) + θ²Var(X) − 2θCov(Y, X)."""
    groups = (control, variant)
    n = sum(g.n for g in groups)
    mean_pre = sum(g.n * g.mean_pre for g in groups) / n
    mean = sum(g.n * g.mean for g in groups) / n
    # Pooled (co)variances from the groups' moments: within plus between, divided by n − 1.
    var_pre = sum((g.n - 1) * g.variance_pre + g.n * (g.mean_pre - mean_pre) ** 2 for g in groups)
    cov = sum(
        (g.n - 1) * g.covariance + g.n * (g.mean_pre - mean_pre) * (g.mean - mean) for g in groups
    )
    theta = cov / var_pre if var_pre > 0 else 0.0

    def adjusted(g: CovariateSample) -> Sample:
        variance = g.variance + theta**2 * g.variance_pre - 2 * theta * g.covariance
        return Sample(g.n, g.mean - theta * (g.mean_pre - mean_pre), max(variance, 0.0))

    return CupedAdjustment(theta, mean_pre, adjusted(control), adjusted(variant))


def compare_cuped(
    control: CovariateSample,
    variant: CovariateSample,
    *,
    metric: str = "metric",
    names: tuple[str, str] = ("control", "variant"),
    alpha: float = ALPHA,
) -> Comparison:
    """CUPED: Welch on the metric adjusted by its pre-exposure value. The difference estimates
    the same effect as ``compare_means`` with less variance (by ρ² of metric and covariate)."""
    adjustment = cuped_adjustment(control, variant)
    c, t = adjustment.control, adjustment.variant
    return _compare(metric, names, c, t, method="cuped", df=welch_df(c, t), alpha=alpha)


# ---- always-valid confidence sequences ---------------------------------------------------


def mixing_rho(alpha: float, tuning: int) -> float:
    """ρ that makes the normal-mixture boundary tightest at ``tuning`` units (Howard et al.
    2021, as GrowthBook parametrises it)."""
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / tuning)


def _sequence_half_width(se: float, alpha: float, sequence: ConfidenceSequence) -> float:
    """Howard et al.'s two-sided normal-mixture boundary for a mean of N units with per-unit
    variance s² = se²·N:  s·√(2(Nρ²+1)/(N²ρ²) · ln(√(Nρ²+1)/α))."""
    n, rho = sequence.units, sequence.rho
    s = se * math.sqrt(n)
    return s * math.sqrt(
        2 * (n * rho**2 + 1) / (n**2 * rho**2) * math.log(math.sqrt(n * rho**2 + 1) / alpha)
    )


def _sequence_p_value(estimate: float, se: float, sequence: ConfidenceSequence) -> float:
    """The smallest α whose sequence excludes 0 (the half-width solved for α): the mSPRT's
    always-valid p-value √(Nρ²+1)·exp(−d²N²ρ²/(2s²(Nρ²+1)))."""
    n, rho = sequence.units, sequence.rho
    if se == 0:
        return 1.0 if estimate == 0 else 0.0
    s2 = se**2 * n
    exponent = -(estimate**2) * n**2 * rho**2 / (2 * s2 * (n * rho**2 + 1))
    return min(1.0, math.sqrt(n * rho**2 + 1) * math.exp(exponent))


def sequential(comparison: Comparison, *, tuning: int = DEFAULT_TUNING) -> Comparison:
    """The same comparison as an always-valid confidence sequence: its interval holds at
    every look at once, so staff may look every day without raising the false-positive rate.
    Keep the smallest p-value seen so far if one is reported over time (it stays valid)."""
    if comparison.sequence is not None:
        return comparison
    sequence = ConfidenceSequence(
        units=comparison.n_control + comparison.n_variant,
        rho=mixing_rho(comparison.alpha, tuning),
    )
    width = _sequence_half_width(comparison.standard_error, comparison.alpha, sequence)
    lift_width = (
        _sequence_half_width(comparison.lift_standard_error, comparison.alpha, sequence)
        if not math.isnan(comparison.lift_standard_error)
        else math.nan
    )
    return replace(
        comparison,
        method=f"{comparison.method}+sequential",
        ci_low=comparison.difference - width,
        ci_high=comparison.difference + width,
        p_value=_sequence_p_value(comparison.difference, comparison.standard_error, sequence),
        lift_ci_low=comparison.relative_lift - lift_width,
        lift_ci_high=comparison.relative_lift + lift_width,
        df=None,
        sequence=sequence,
    )


# ---- across metrics --------------------------------------------------------------------


def holm_p_values(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: max over j ≤ i of min(1, (m − j + 1)·p_(j)).

    Kept by hand: SciPy has no Holm, and statsmodels' ``multipletests(method="holm")`` (equal
    to this to the last bit, tests/experiments/test_statistics.py) runs ``gc.collect()`` on
    every call: 94 ms a call in a bare process, 181-358 ms in the benchmark's fuller heap,
    against 0.04-0.08 ms here for 20 p-values (benchmarks/insight_numerics.py)."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def bh_p_values(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values: min over j ≥ i of min(1, m·p_(j)/j) (SciPy's)."""
    if not p_values:
        return []
    return [float(p) for p in stats.false_discovery_control(list(p_values), method="bh")]


def _with_intervals(
    comparisons: Sequence[Comparison], adjusted: list[float], alpha: float, correction: str
) -> list[Comparison]:
    found = []
    for comparison, p in zip(comparisons, adjusted, strict=True):
        width = _half_width(comparison.standard_error, alpha, comparison.df, comparison.sequence)
        lift_width = (
            _half_width(comparison.lift_standard_error, alpha, None, comparison.sequence)
            if not math.isnan(comparison.lift_standard_error)
            else math.nan
        )
        found.append(
            replace(
                comparison,
                correction=correction,
                adjusted_p_value=p,
                adjusted_ci_low=comparison.difference - width,
                adjusted_ci_high=comparison.difference + width,
                adjusted_lift_ci_low=comparison.relative_lift - lift_width,
                adjusted_lift_ci_high=comparison.relative_lift + lift_width,
            )
        )
    return found


def holm(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """Holm across ``comparisons`` (one family: every metric and variant of an experiment), with
    Bonferroni intervals at 1 − α/m, which hold simultaneously for all m."""
    if not comparisons:
        return []
    alpha = comparisons[0].alpha
    adjusted = holm_p_values([c.p_value for c in comparisons])
    return _with_intervals(comparisons, adjusted, alpha / len(comparisons), "holm")


def benjamini_hochberg(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """Benjamini–Hochberg across ``comparisons``, with Benjamini and Yekutieli's (2005)
    false-coverage-rate intervals at 1 − Rα/m, R being the number BH rejects (α/m when none)."""
    if not comparisons:
        return []
    alpha, m = comparisons[0].alpha, len(comparisons)
    adjusted = bh_p_values([c.p_value for c in comparisons])
    rejected = sum(p < alpha for p in adjusted)
    return _with_intervals(comparisons, adjusted, max(rejected, 1) * alpha / m, "bh")


# ---- the split itself --------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRatio:
    observed: dict[str, int]
    expected: dict[str, float]
    statistic: float
    p_value: float
    mismatch: bool  # p < SRM_THRESHOLD: the assignment or the exposure logging is broken


def sample_ratio_mismatch(
    counts: Mapping[str, int], weights: Mapping[str, float], *, threshold: float = SRM_THRESHOLD
) -> SampleRatio:
    """Pearson's chi-square of the units per variant against the shares the weights promise."""
    names = list(weights)
    total_weight = sum(weights.values())
    total = sum(counts.get(name, 0) for name in names)
    observed = {name: int(counts.get(name, 0)) for name in names}
    expected = {name: total * weights[name] / total_weight for name in names}
    if total == 0 or len(names) < 2:
        return SampleRatio(observed, expected, 0.0, 1.0, False)
    statistic = sum((observed[n] - expected[n]) ** 2 / expected[n] for n in names)
    p = float(special.chdtrc(len(names) - 1, statistic))  # chi-square's upper tail, k − 1 df
    return SampleRatio(observed, expected, statistic, p, p < threshold)
