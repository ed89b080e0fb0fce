"""An experiment's results: every metric per variant against the control, the split check, the
customer's guardrails and a verdict in plain words; and the automatic stop that acts on them.

Per metric and variant: the fixed-horizon comparison (Welch, proportions or the delta method),
the CUPED-adjusted one (on the same metric before each person's first exposure), and the
always-valid confidence sequence of the best of the two (CUPED where it applies), which is what
the verdict and the automatic stop read: staff may look every day. The primary and secondary
metrics are one family for Holm's correction; the guardrails are not corrected (a correction
would make them slower to see harm).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

import ibis.expr.types as ir
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.analytics.goals import EventGoal
from tillit.analytics.models import Goal
from tillit.analytics.tables import Model
from tillit.experiments.metrics import (
    CUSTOMER_GUARDRAILS,
    Measured,
    Metric,
    Moments,
    goal_metric,
    measure,
    mixed_count,
)
from tillit.experiments.models import Experiment, ExperimentStatus
from tillit.experiments.statistics import (
    Comparison,
    Sample,
    SampleRatio,
    compare_cuped,
    compare_means,
    compare_proportions,
    compare_ratios,
    holm,
    sample_ratio_mismatch,
    sequential,
)

Role = Literal["primary", "secondary", "guardrail"]
# Who stops an experiment by itself (the jobs process's experiments round), as audited.
GUARD_LABEL = "experiment guardrail"


@dataclass(frozen=True)
class Point:
    """The always-valid estimate as it stood with the people first exposed up to ``day``."""

    day: date
    difference: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class VariantResult:
    variant: str
    fixed: Comparison | None  # the fixed-horizon comparison (valid at one planned look)
    cuped: Comparison | None  # the same adjusted by the pre-exposure value
    sequential: Comparison | None  # always valid; Holm-adjusted for primary and secondary
    harmed: bool = False  # a guardrail that shows harm (always-valid interval clear of 0)
    series: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    role: Role
    defined: bool  # False: the key names no analytics goal (yet)
    totals: dict[str, Moments]
    variants: list[VariantResult]


@dataclass(frozen=True)
class Results:
    experiment: Experiment
    units: dict[str, int]
    mixed: int
    split: SampleRatio
    metrics: list[MetricResult]
    days_running: int
    verdict: str  # the stop, if stopped, and the findings
    findings: str = ""  # the verdict without the stop (the page shows the stop on its own)

    @property
    def primary(self) -> MetricResult:
        return self.metrics[0]

    @property
    def harmed(self) -> list[tuple[MetricResult, VariantResult]]:
        return [
            (m, v) for m in self.metrics if m.role == "guardrail" for v in m.variants if v.harmed
        ]


# ---- the metrics an experiment reads -------------------------------------------------------


def _undefined(key: str) -> Metric:
    def nothing(model: Model) -> ir.Table:
        raise AssertionError("an undefined metric is never measured")

    return Metric(key, key, "conversion", nothing, 1)


def experiment_metrics(session: Session, experiment: Experiment) -> list[tuple[Metric, Role, bool]]:
    goals = {g.key: g for g in session.scalars(select(Goal))}

    def metric(key: str) -> tuple[Metric, bool]:
        goal = goals.get(key)
        if goal is None or not goal.event:
            return _undefined(key), False
        event_goal = EventGoal(
            key=goal.key,
            event=goal.event,
            window_days=goal.window_days,
            value_property=goal.value_property,
            filters=dict(goal.filters or {}),
        )
        return goal_metric(event_goal, goal.name), True

    found: list[tuple[Metric, Role, bool]] = []
    primary, defined = metric(experiment.primary_goal)
    found.append((primary, "primary", defined))
    for key in experiment.secondary_goals:
        secondary, defined = metric(key)
        found.append((secondary, "secondary", defined))
    own = {m.key for m in CUSTOMER_GUARDRAILS}
    for key in experiment.guardrails:
        if key not in own:
            guardrail, defined = metric(key)
            found.append((guardrail, "guardrail", defined))
    found.extend((m, "guardrail", True) for m in CUSTOMER_GUARDRAILS)
    return found


# ---- comparisons ---------------------------------------------------------------------------


def compare(
    metric: Metric, control: Moments, variant: Moments, names: tuple[str, str]
) -> tuple[Comparison | None, Comparison | None]:
    """The fixed-horizon comparison and the CUPED one (None where the data do not allow)."""
    try:
        if metric.kind == "ratio":
            fixed = compare_ratios(
                control.ratio_sample(), variant.ratio_sample(), metric=metric.key, names=names
            )
            return fixed, None
        if metric.kind == "conversion":
            fixed = compare_proportions(
                _proportion(control), _proportion(variant), metric=metric.key, names=names
            )
        else:
            c, v = control.covariate_sample(), variant.covariate_sample()
            fixed = compare_means(
                Sample(c.n, c.mean, c.variance),
                Sample(v.n, v.mean, v.variance),
                metric=metric.key,
                names=names,
            )
    except (ValueError, ZeroDivisionError):
        return None, None
    if fixed.standard_error == 0 and fixed.difference == 0:
        return None, None  # nothing happened in either variant (or all did): nothing to compare
    cuped = None
    if metric.cuped and control.m2_x + variant.m2_x > 0:
        try:
            cuped = compare_cuped(
                control.covariate_sample(),
                variant.covariate_sample(),
                metric=metric.key,
                names=names,
            )
        except (ValueError, ZeroDivisionError):
            cuped = None
    return fixed, cuped


def _proportion(moments: Moments) -> Sample:
    return Sample.proportion(round(moments.mean_y * moments.n), moments.n)


def _finite(comparison: Comparison | None) -> bool:
    return comparison is not None and math.isfinite(comparison.standard_error)


def _series(measured: Measured, control: str, variant: str) -> list[Point]:
    points = []
    for day, sums in measured.running():
        fixed, cuped = compare(measured.metric, sums[control], sums[variant], (control, variant))
        best = cuped if _finite(cuped) else fixed
        if best is None or best.standard_error == 0:
            continue
        always = sequential(best)
        points.append(Point(day, always.difference, always.ci_low, always.ci_high))
    return points


def harms(metric: Metric, comparison: Comparison) -> bool:
    """Whether the always-valid interval lies wholly on the harmful side of 0."""
    if metric.harm == "rise":
        return comparison.ci_low > 0
    return comparison.ci_high < 0


# ---- the analysis --------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """What the engine counted for an experiment: per defined metric its totals and its days
    (a ``Measured`` without the metric's function), and the people exposed to two variants.
    Plain data, so a page can keep it under the data's mark instead of counting per load."""

    measured: dict[str, tuple[dict[str, Moments], dict[str, dict[date, Moments]]]]
    mixed: int


# keep(key, compute): compute(model), or the answer kept for the same key and the same data.
Keep = Callable[[Sequence[Any], Callable[[Model], Counts]], Counts]


def count(model: Model, experiment: Experiment, metrics: Sequence[Metric]) -> Counts:
    """Every metric for every variant, on the engine (one query per metric)."""
    variants = experiment.variant_keys
    measured = {}
    for metric in metrics:
        data = measure(model, experiment.key, metric, variants)
        measured[metric.key] = (data.totals, data.by_day)
    return Counts(measured, mixed_count(model, experiment.key))


def _counts_key(session: Session, experiment: Experiment) -> list[Any]:
    """What the counts depend on besides the data: the experiment and the goals it reads."""
    goals = sorted(
        (g.key, g.event, g.window_days, g.value_property, sorted((g.filters or {}).items()))
        for g in session.scalars(select(Goal))
    )
    return [
        "experiment-counts",
        experiment.key,
        experiment.variants,
        experiment.primary_goal,
        experiment.secondary_goals,
        experiment.guardrails,
        goals,
    ]


def analyse(
    *,
    session: Session,
    experiment: Experiment,
    now: datetime,
    model: Model | None = None,
    keep: Keep | None = None,
) -> Results:
    """The experiment's results, counted on ``model``, or through ``keep`` (the pages keep
    the counts under the data's mark: see ``tillit.analytics.reports.cached``)."""
    variants = experiment.variant_keys
    control = experiment.control
    others = [v for v in variants if v != control]
    wanted = experiment_metrics(session, experiment)
    defined_metrics = [metric for metric, _, defined in wanted if defined]

    def compute(on: Model) -> Counts:
        return count(on, experiment, defined_metrics)

    if keep is not None:
        counts = keep(_counts_key(session, experiment), compute)
    elif model is not None:
        counts = compute(model)
    else:
        raise TypeError("analyse needs a model or a keep")
    measured_metrics: list[tuple[Measured | None, Metric, Role, bool]] = []
    for metric, role, defined in wanted:
        data = Measured(metric, *counts.measured[metric.key]) if defined else None
        measured_metrics.append((data, metric, role, defined))

    # Every metric reads the same units; the counts from the first measured one.
    first = next((m for m, *_ in measured_metrics if m is not None), None)
    units = {v: (first.totals[v].n if first else 0) for v in variants}
    split = sample_ratio_mismatch(units, experiment.weights)

    family: list[Comparison] = []
    drafts: list[tuple[Metric, Role, bool, dict[str, Moments], list[VariantResult]]] = []
    for data, metric, role, defined in measured_metrics:
        rows: list[VariantResult] = []
        totals = data.totals if data else {}
        for variant in others:
            if data is None:
                rows.append(VariantResult(variant, None, None, None))
                continue
            fixed, cuped = compare(metric, totals[control], totals[variant], (control, variant))
            best = cuped if _finite(cuped) else fixed
            always = sequential(best) if best is not None else None
            if always is not None and role != "guardrail":
                family.append(always)
            rows.append(
                VariantResult(
                    variant,
                    fixed,
                    cuped,
                    always,
                    harmed=role == "guardrail" and always is not None and harms(metric, always),
                    series=_series(data, control, variant) if role == "primary" else [],
                )
            )
        drafts.append((metric, role, defined, totals, rows))

    adjusted = {(c.metric, c.variant): c for c in holm(family)}
    metrics = []
    for metric, role, defined, totals, rows in drafts:
        rows = [
            replace(r, sequential=adjusted.get((metric.key, r.variant), r.sequential)) for r in rows
        ]
        metrics.append(MetricResult(metric, role, defined, totals, rows))

    started = experiment.started_at
    end = experiment.stopped_at or now
    days = max((end - started).days, 0) if started else 0
    results = Results(
        experiment=experiment,
        units=units,
        mixed=counts.mixed,
        split=split,
        metrics=metrics,
        days_running=days,
        verdict="",
    )
    said = findings(results)
    stop = stopped_words(experiment)
    return replace(results, findings=said, verdict=f"{stop} {said}" if stop else said)


# ---- words ---------------------------------------------------------------------------------


def variant_name(experiment: Experiment, key: str) -> str:
    """A variant as staff named it: its description in quotes, else its key."""
    for variant in experiment.variants:
        if variant["key"] == key and variant.get("description"):
            return f"“{variant['description']}”"
    return key


def amount(metric: Metric, value: float) -> str:
    """A difference in the metric's own terms: percentage points for conversions. A value that
    rounds to zero reads "+0", never "-0" (adding 0.0 turns a rounded -0.0 into 0.0)."""
    if metric.kind == "conversion":
        return f"{round(value * 100, 2) + 0.0:+.2f} percentage points"
    if metric.kind == "ratio":
        return f"{round(value, 1) + 0.0:+.1f} points"
    return f"{round(value, 2) + 0.0:+,.2f}"


def describe(metric: Metric, comparison: Comparison) -> str:
    low, high = amount(metric, comparison.ci_low), amount(metric, comparison.ci_high)
    return (
        f"{metric.label}: {amount(metric, comparison.difference)} "
        f"(always-valid 95 % interval {low} to {high})"
    )


def stopped_words(experiment: Experiment) -> str | None:
    """Why a stopped experiment stopped, as its stop reason says (None: not stopped, or no
    reason given). The guardrail's reasons begin "Stopped by itself"; staff's are prefixed."""
    reason = experiment.stop_reason
    if experiment.status != ExperimentStatus.stopped or not reason:
        return None
    return reason if reason.startswith("Stopped") else f"Stopped: {reason}"


def stopped_by_guardrail(experiment: Experiment) -> bool:
    """Whether the experiments round stopped it by itself (``tillit.experiments.guard``)."""
    return experiment.status == ExperimentStatus.stopped and experiment.stopped_by == GUARD_LABEL


def findings(results: Results) -> str:
    """What the results show, in words: the split, the harm, the primary goal."""
    experiment = results.experiment
    said: list[str] = []
    if sum(results.units.values()) == 0:
        said.append("Nobody has been exposed yet.")
        return " ".join(said)
    if results.split.mismatch:
        said.append(
            "The split of people between the variants does not match the plan "
            f"(p = {results.split.p_value:.2g}); no effect can be trusted until the cause "
            "is found."
        )
    for metric, row in results.harmed:
        assert row.sequential is not None  # harm is read from it
        name = variant_name(experiment, row.variant)
        said.append(
            f"Variant {name} harms the customer. {describe(metric.metric, row.sequential)}."
        )
    primary = results.primary
    if not primary.defined:
        said.append(
            f"The primary goal {primary.metric.key!r} is not defined as an analytics goal, "
            "so nothing can be measured."
        )
        return " ".join(said)
    goal = primary.metric.label.lower()
    people = sum(results.units.values())
    for row in primary.variants:
        always, name = row.sequential, variant_name(experiment, row.variant)
        if always is None:
            said.append(f"Variant {name}: not enough people yet to compare.")
        elif always.significant:
            way = "raises" if always.difference > 0 else "lowers"
            said.append(f"Variant {name} {way} {goal}: {describe(primary.metric, always)}.")
        else:
            said.append(
                f"Variant {name}: no difference shown yet in {goal} ({people:,} people so far); "
                "it may be looked at every day without raising the risk of a false finding."
            )
    return " ".join(said)


def stop_reason(results: Results, *, on_harm: bool, on_decision: bool) -> str | None:
    """Why the experiment should stop now, in words; None: let it run. A harmed guardrail or
    a sample-ratio mismatch when ``on_harm`` (the experiment's ``auto_stop``), a decisive
    primary result when ``on_decision``."""
    experiment = results.experiment
    harmed = results.harmed if on_harm else []
    if harmed:
        metric, row = harmed[0]
        always = row.sequential
        assert always is not None
        name = variant_name(experiment, row.variant)
        measured = (
            f"{amount(metric.metric, always.difference)} (always-valid 95 % interval "
            f"{amount(metric.metric, always.ci_low)} to {amount(metric.metric, always.ci_high)})"
        )
        said = (
            f"its guardrail {metric.metric.label} showed harm to the customer in variant "
            f"{name}: {measured}"
        )
        others = list(dict.fromkeys(m.metric.label for m, _ in harmed[1:]))
        others = [label for label in others if label != metric.metric.label]
        if others:
            said += f"; {', '.join(others)} showed harm too"
        return said[:450]
    if on_harm and results.split.mismatch:
        return (
            "the split of people between the variants does not match the plan "
            f"(sample-ratio mismatch, p = {results.split.p_value:.2g})"
        )
    primary = results.primary
    if on_decision and primary.defined:
        decided = [r for r in primary.variants if r.sequential and r.sequential.significant]
        if decided and len(decided) == len(primary.variants):
            row = decided[0]
            assert row.sequential is not None
            name = variant_name(experiment, row.variant)
            said = describe(primary.metric, row.sequential)
            return f"the primary goal is decided: variant {name}, {said}"[:450]
    return None


def comparisons_of(results: Results) -> Sequence[tuple[MetricResult, VariantResult]]:
    return [(m, r) for m in results.metrics for r in m.variants]


# ---- one flat row per metric and variant (API, CSV) ----------------------------------------

COLUMNS = (
    "metric",
    "metric_name",
    "role",
    "kind",
    "variant",
    "control",
    "n_control",
    "n_variant",
    "mean_control",
    "mean_variant",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "relative_lift",
    "lift_ci_low",
    "lift_ci_high",
    "cuped_difference",
    "cuped_ci_low",
    "cuped_ci_high",
    "cuped_p_value",
    "sequential_method",
    "sequential_difference",
    "sequential_ci_low",
    "sequential_ci_high",
    "sequential_p_value",
    "correction",
    "adjusted_p_value",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "adjusted_lift_ci_low",
    "adjusted_lift_ci_high",
    "harmed",
)


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def flat_rows(results: Results) -> list[dict[str, Any]]:
    """Per metric and variant: the fixed-horizon comparison, CUPED's, and the always-valid one
    with Holm's adjusted p-value and intervals (guardrails: not adjusted). None where a metric
    is not defined or has too few people."""
    found = []
    for metric, row in comparisons_of(results):
        fixed, cuped, always = row.fixed, row.cuped, row.sequential
        found.append(
            {
                "metric": metric.metric.key,
                "metric_name": metric.metric.label,
                "role": metric.role,
                "kind": metric.metric.kind,
                "variant": row.variant,
                "control": results.experiment.control,
                "n_control": fixed.n_control if fixed else None,
                "n_variant": fixed.n_variant if fixed else None,
                "mean_control": _number(fixed.mean_control) if fixed else None,
                "mean_variant": _number(fixed.mean_variant) if fixed else None,
                "difference": _number(fixed.difference) if fixed else None,
                "ci_low": _number(fixed.ci_low) if fixed else None,
                "ci_high": _number(fixed.ci_high) if fixed else None,
                "p_value": _number(fixed.p_value) if fixed else None,
                "relative_lift": _number(fixed.relative_lift) if fixed else None,
                "lift_ci_low": _number(fixed.lift_ci_low) if fixed else None,
                "lift_ci_high": _number(fixed.lift_ci_high) if fixed else None,
                "cuped_difference": _number(cuped.difference) if cuped else None,
                "cuped_ci_low": _number(cuped.ci_low) if cuped else None,
                "cuped_ci_high": _number(cuped.ci_high) if cuped else None,
                "cuped_p_value": _number(cuped.p_value) if cuped else None,
                "sequential_method": always.method if always else None,
                "sequential_difference": _number(always.difference) if always else None,
                "sequential_ci_low": _number(always.ci_low) if always else None,
                "sequential_ci_high": _number(always.ci_high) if always else None,
                "sequential_p_value": _number(always.p_value) if always else None,
                "correction": always.correction if always else None,
                "adjusted_p_value": _number(always.adjusted_p_value) if always else None,
                "adjusted_ci_low": _number(always.adjusted_ci_low) if always else None,
                "adjusted_ci_high": _number(always.adjusted_ci_high) if always else None,
                "adjusted_lift_ci_low": _number(always.adjusted_lift_ci_low) if always else None,
                "adjusted_lift_ci_high": _number(always.adjusted_lift_ci_high) if always else None,
                "harmed": row.harmed,
            }
        )
    return found


def csv_text(results: Results) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in flat_rows(results):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()
