"""The estimators against known values: statsmodels' independent implementations, textbook
numbers, and simulations with a fixed seed whose truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from tillit.experiments import power
from tillit.experiments.metrics import Metric
from tillit.experiments.results import amount
from tillit.experiments.statistics import (
    CovariateSample,
    RatioSample,
    Sample,
    benjamini_hochberg,
    bh_p_values,
    compare_cuped,
    compare_means,
    compare_proportions,
    compare_ratios,
    cuped_adjustment,
    holm,
    holm_p_values,
    sample_ratio_mismatch,
    sequential,
)

RNG_SEED = 20261207


def test_welch_matches_statsmodels_and_scipy() -> None:
    rng = np.random.default_rng(RNG_SEED)
    control, variant = rng.normal(10, 2, 40), rng.normal(11, 5, 25)
    found = compare_means(Sample.of(control), Sample.of(variant))
    # statsmodels compares x1 − x2: the variant first, so its difference is ours.
    reference = CompareMeans(DescrStatsW(variant), DescrStatsW(control))
    low, high = reference.tconfint_diff(alpha=0.05, usevar="unequal")
    _t, p, df = reference.ttest_ind(usevar="unequal")
    assert found.difference == pytest.approx(variant.mean() - control.mean())
    assert (found.ci_low, found.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert found.p_value == pytest.approx(p, rel=1e-10)
    assert found.df == pytest.approx(df, rel=1e-10)
    assert found.p_value == pytest.approx(stats.ttest_ind(variant, control, equal_var=False).pvalue)


def test_welch_textbook_example() -> None:
    """Welch (1947)'s setting as in the usual textbook example: two small samples with unequal
    spread; the numbers below are worked by hand from the formula."""
    a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    found = compare_means(Sample.of(a), Sample.of(b))
    # Wikipedia's "Welch's t-test" example A1/A2: t = −2.46, ν ≈ 24.99, p = 0.021.
    assert found.difference / found.standard_error == pytest.approx(2.46, abs=0.005)
    assert found.df == pytest.approx(24.99, abs=0.01)
    assert found.p_value == pytest.approx(0.021, abs=0.0005)


def test_proportions_match_statsmodels_wald() -> None:
    found = compare_proportions(Sample.proportion(420, 5000), Sample.proportion(480, 5000))
    low, high = sm_proportion.confint_proportions_2indep(
        480, 5000, 420, 5000, method="wald", compare="diff"
    )
    reference = sm_proportion.test_proportions_2indep(
        480, 5000, 420, 5000, method="wald", compare="diff"
    )
    assert found.difference == pytest.approx(0.012)
    assert (found.ci_low, found.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert found.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert found.relative_lift == pytest.approx(480 / 420 - 1)
    assert found.lift_ci_low < found.relative_lift < found.lift_ci_high


def test_a_proportion_outside_its_count_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and n"):
        Sample.proportion(11, 10)


def test_a_ratio_of_unit_denominators_is_the_plain_mean() -> None:
    """With every denominator 1 the delta method's variance is exactly Var(X)/n."""
    rng = np.random.default_rng(RNG_SEED)
    values = rng.exponential(3, 500)
    ratio = RatioSample.of(values, np.ones_like(values))
    assert ratio.ratio == pytest.approx(values.mean())
    assert ratio.variance_of_ratio == pytest.approx(values.var(ddof=1) / values.size)


def test_the_delta_method_variance_matches_the_spread_of_simulated_ratios() -> None:
    """Revenue per order: orders ~ Poisson, revenue ~ orders × gamma. The delta method's
    standard error of the ratio agrees with the spread of 4,000 simulated ratios within 5 %."""
    rng = np.random.default_rng(RNG_SEED)
    n, runs = 400, 4000
    orders = rng.poisson(2.0, (runs, n)) + 1
    revenue = orders * rng.gamma(2.0, 25.0, (runs, n)) + rng.normal(0, 10, (runs, n))
    ratios = revenue.sum(axis=1) / orders.sum(axis=1)
    ses = [math.sqrt(RatioSample.of(revenue[i], orders[i]).variance_of_ratio) for i in range(200)]
    assert float(np.mean(ses)) == pytest.approx(ratios.std(ddof=1), rel=0.05)


def test_compare_ratios_covers_a_known_difference() -> None:
    rng = np.random.default_rng(RNG_SEED)
    covered, runs = 0, 400
    for _ in range(runs):
        samples = []
        for price in (50.0, 55.0):  # the variant's orders are worth 10 % more
            orders = rng.poisson(2.0, 600) + 1
            samples.append(RatioSample.of(orders * rng.gamma(4.0, price / 4, 600), orders))
        found = compare_ratios(samples[0], samples[1])
        covered += found.ci_low <= 5.0 <= found.ci_high
    assert 0.92 <= covered / runs <= 0.98


def test_cuped_removes_rho_squared_of_the_variance() -> None:
    rng = np.random.default_rng(RNG_SEED)
    rho, n = 0.7, 200_000
    groups = []
    for effect in (0.0, 0.05):
        pre = rng.normal(0, 1, n)
        value = rho * pre + math.sqrt(1 - rho**2) * rng.normal(0, 1, n) + effect
        groups.append(CovariateSample.of(value, pre))
    plain = compare_means(
        Sample(groups[0].n, groups[0].mean, groups[0].variance),
        Sample(groups[1].n, groups[1].mean, groups[1].variance),
    )
    adjusted = compare_cuped(groups[0], groups[1])
    reduction = 1 - adjusted.standard_error**2 / plain.standard_error**2
    assert reduction == pytest.approx(rho**2, rel=0.05)
    assert adjusted.ci_low < 0.05 < adjusted.ci_high
    assert adjusted.method == "cuped"


def test_cuped_agrees_with_regression_adjustment() -> None:
    """CUPED's estimate is the treatment coefficient of OLS value ~ treated + pre (Deng et al.
    2013 section 3.3; the θs differ only by the tiny between-group part of the covariance)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(RNG_SEED)
    pre = rng.normal(100, 20, 2000)
    treated = np.repeat([0, 1], 1000)
    value = 0.8 * pre + 3.0 * treated + rng.normal(0, 10, 2000)
    fit = sm.OLS(value, sm.add_constant(np.column_stack([treated, pre]))).fit()
    found = compare_cuped(
        CovariateSample.of(value[:1000], pre[:1000]), CovariateSample.of(value[1000:], pre[1000:])
    )
    assert found.difference == pytest.approx(fit.params[1], abs=0.02)
    assert found.standard_error == pytest.approx(fit.bse[1], rel=0.02)
    theta = cuped_adjustment(
        CovariateSample.of(value[:1000], pre[:1000]), CovariateSample.of(value[1000:], pre[1000:])
    ).theta
    assert theta == pytest.approx(fit.params[2], rel=0.02)


def test_holm_and_bh_match_statsmodels() -> None:
    rng = np.random.default_rng(RNG_SEED)
    comparisons = [
        compare_means(Sample.of(rng.normal(0, 1, 200)), Sample.of(rng.normal(shift, 1, 200)))
        for shift in (0.0, 0.1, 0.2, 0.3, 0.05, 0.4)
    ]
    p_values = [c.p_value for c in comparisons]
    for corrected, method in (
        (holm(comparisons), "holm"),
        (benjamini_hochberg(comparisons), "fdr_bh"),
    ):
        expected = multipletests(p_values, alpha=0.05, method=method)[1]
        assert [c.adjusted_p_value for c in corrected] == pytest.approx(list(expected), rel=1e-12)
        for before, after in zip(comparisons, corrected, strict=True):
            assert (
                after.adjusted_ci_low <= before.ci_low and after.adjusted_ci_high >= before.ci_high
            )
            assert after.p_value == before.p_value  # the unadjusted value stays beside it


def test_holm_and_bh_p_values_match_hand_computed_values() -> None:
    # Sorted: 0.005, 0.01, 0.03, 0.04 (m = 4), ties kept in input order.
    p_values = [0.01, 0.04, 0.03, 0.005]
    # Holm: running max of (m - rank) * p: 0.02, 0.03, 0.06, max(0.06, 0.04).
    assert holm_p_values(p_values) == pytest.approx([0.03, 0.06, 0.06, 0.02], rel=1e-12)
    # BH: running min from the top of m * p / rank: 0.04, 0.04, 0.02, 0.02.
    assert bh_p_values(p_values) == pytest.approx([0.02, 0.04, 0.04, 0.02], rel=1e-12)
    assert holm_p_values([0.6, 0.7]) == [1.0, 1.0]  # capped at 1
    assert holm_p_values([]) == [] and bh_p_values([]) == []


def test_holm_intervals_are_bonferroni_intervals() -> None:
    rng = np.random.default_rng(RNG_SEED)
    comparisons = [
        compare_proportions(Sample.proportion(int(k), 1000), Sample.proportion(int(j), 1000))
        for k, j in rng.integers(80, 140, (4, 2))
    ]
    for c in holm(comparisons):
        width = stats.norm.ppf(1 - 0.05 / 4 / 2) * c.standard_error
        assert (c.adjusted_ci_low, c.adjusted_ci_high) == pytest.approx(
            (c.difference - width, c.difference + width)
        )


def test_srm_flags_a_skewed_split_of_a_million() -> None:
    found = sample_ratio_mismatch(
        {"control": 505_000, "variant": 495_000}, {"control": 1, "variant": 1}
    )
    assert found.statistic == pytest.approx(100.0)
    assert found.p_value == pytest.approx(stats.chi2.sf(100.0, 1)) and found.p_value < 1e-22
    assert found.mismatch


def test_srm_rarely_flags_fair_splits() -> None:
    rng = np.random.default_rng(RNG_SEED)
    weights = {"control": 0.5, "a": 0.25, "b": 0.25}
    draws = rng.multinomial(10_000, list(weights.values()), 4000)
    flagged = sum(
        sample_ratio_mismatch(dict(zip(weights, map(int, row), strict=True)), weights).mismatch
        for row in draws
    )
    # 0.1 % of 4,000 is 4 expected; more than 11 has a chance below 0.1 % if the test is right.
    assert flagged <= 11


# ---- sequential testing ------------------------------------------------------------------


def _peeking_runs(effect: float, runs: int, looks: int, per_look: int, seed: int) -> np.ndarray:
    """Cumulative per-look (n, mean, variance) of both arms for ``runs`` simulated experiments:
    arrays shaped (runs, looks)."""
    rng = np.random.default_rng(seed)
    arms = []
    for shift in (0.0, effect):
        values = rng.normal(shift, 1.0, (runs, looks * per_look))
        n = np.arange(1, looks + 1) * per_look
        sums = values.cumsum(axis=1)[:, n - 1]
        squares = (values**2).cumsum(axis=1)[:, n - 1]
        means = sums / n
        variances = (squares - n * means**2) / (n - 1)
        arms.append((n, means, variances))
    return np.array(arms, dtype=object)


def _rejections(effect: float, *, always_valid: bool, runs: int = 600, looks: int = 20) -> float:
    (n, mc, vc), (_, mv, vv) = _peeking_runs(effect, runs, looks, 100, RNG_SEED)
    rejected = 0
    for run in range(runs):
        for look in range(looks):
            found = compare_means(
                Sample(int(n[look]), mc[run, look], vc[run, look]),
                Sample(int(n[look]), mv[run, look], vv[run, look]),
            )
            if always_valid:
                found = sequential(found, tuning=2000)
            if found.ci_low > 0 or found.ci_high < 0:
                rejected += 1
                break
    return rejected / runs


def test_daily_peeking_keeps_the_sequence_valid_and_breaks_the_fixed_test() -> None:
    """A/A experiments looked at 20 times: the always-valid sequence rejects in at most ~5 % of
    them; the fixed-horizon interval, peeked at as often, in several times that."""
    sequential_rate = _rejections(0.0, always_valid=True)
    fixed_rate = _rejections(0.0, always_valid=False)
    assert sequential_rate <= 0.05
    assert fixed_rate >= 0.15  # about a quarter in theory for 20 looks


def test_the_sequence_still_finds_a_real_effect() -> None:
    assert _rejections(0.2, always_valid=True, runs=200) >= 0.8


def test_the_sequence_is_wider_than_the_fixed_interval_and_its_p_value_larger() -> None:
    rng = np.random.default_rng(RNG_SEED)
    fixed = compare_means(Sample.of(rng.normal(0, 1, 3000)), Sample.of(rng.normal(0.1, 1, 3000)))
    always = sequential(fixed)
    assert always.ci_low < fixed.ci_low and always.ci_high > fixed.ci_high
    assert always.p_value > fixed.p_value
    assert always.method == "welch+sequential" and always.sequence is not None
    # The p-value is where the sequence's edge reaches 0: at alpha = p, the interval touches 0.
    at_p = sequential(
        compare_means(
            Sample.of(rng.normal(0, 1, 3000)), Sample.of(rng.normal(0.3, 1, 3000)), alpha=0.05
        )
    )
    touching = holm([at_p])[0]  # one comparison: Holm's interval is the plain one
    assert touching.adjusted_p_value == pytest.approx(at_p.p_value)


# ---- power -------------------------------------------------------------------------------


def test_sample_size_matches_cohen_and_statsmodels() -> None:
    # Cohen (1988), table 2.4.1: d = 0.2, two-sided α = 0.05, power 0.8 → 393 per group.
    assert power.sample_size(effect=0.2, sd=1.0) == 393
    reference = NormalIndPower().solve_power(effect_size=0.5, alpha=0.05, power=0.9, ratio=2.0)
    assert power.sample_size(effect=5.0, sd=10.0, power=0.9, ratio=2.0) == math.ceil(reference)


def test_power_and_mde_invert_each_other() -> None:
    mde = power.minimum_detectable_effect(sd=4.0, n_control=2500, ratio=1.0)
    assert power.power(effect=mde, sd=4.0, n_control=2500) == pytest.approx(0.8, abs=1e-9)
    expected = NormalIndPower().solve_power(nobs1=2500, alpha=0.05, power=0.8, ratio=1.0) * 4.0
    assert mde == pytest.approx(expected, rel=1e-5)  # statsmodels' own root tolerance


def test_proportion_sample_size_is_the_textbook_formula() -> None:
    # n = (z₀.₉₇₅ + z₀.₈)² (p₁q₁ + p₂q₂) / (p₂ − p₁)² for 10 % → 12 %: 3,839 per group.
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    expected = math.ceil(z**2 * (0.1 * 0.9 + 0.12 * 0.88) / 0.02**2)
    assert expected == 3839
    assert power.proportion_sample_size(baseline=0.10, difference=0.02) == expected
    mde = power.proportion_minimum_detectable_effect(baseline=0.10, n_control=expected)
    assert mde == pytest.approx(0.02, abs=1e-5)


def test_power_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="alpha"):
        power.sample_size(effect=1.0, sd=1.0, alpha=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        power.proportion_sample_size(baseline=0.95, difference=0.1)


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("ratio", -0.00001, "+0.0 points"),
        ("ratio", -0.26, "-0.3 points"),
        ("conversion", -0.000001, "+0.00 percentage points"),
        ("conversion", 0.0123, "+1.23 percentage points"),
        ("value", -0.001, "+0.00"),
        ("value", -1234.5, "-1,234.50"),
    ],
)
def test_a_difference_that_rounds_to_zero_never_reads_minus_zero(
    kind: str, value: float, words: str
) -> None:
    metric = Metric("nps", "NPS", kind, hits=lambda model: model, window_days=14)  # type: ignore[arg-type]
    assert amount(metric, value) == words
