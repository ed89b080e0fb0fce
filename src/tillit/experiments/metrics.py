"""An experiment's metrics, measured on the analytics layer (Ibis over the Parquet lake and
snapshots, so DuckDB and Spark give the same answer).

A metric is measured per person (the unit) from their first exposure: what they did within the
metric's window after it (``y``) and, for CUPED, the same over the same length of time before it
(``x``, the pre-exposure value). Three kinds:

- ``conversion``: 1 when the person did it at least once in the window, else 0 (a proportion);
- ``value``: the sum of a value (revenue) or the number of times (``count``) in the window;
- ``ratio``: Σ value / Σ times over people (NPS points per answer), by the delta method.

Where a metric comes from (``Source``): an analytics goal (``analytics_goal``: conversion, or
value when the goal has a value property), or one of the customer's guardrails, always on:
unsubscribes, consent withdrawals, complaints (cases opened), negative feedback and NPS.

One aggregate query per metric returns, per variant and per day of first exposure, the units
and the means, variances and covariances of ``y`` and ``x``; the groups combine exactly (Chan's
pairwise formulas) into the variant's totals and into the running totals day by day (the
effect over time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from tillit.analytics.goals import EventGoal, conversions
from tillit.analytics.tables import Model
from tillit.experiments.statistics import CovariateSample, RatioSample

Kind = Literal["conversion", "value", "ratio"]
GUARDRAIL_WINDOW_DAYS = 14  # the customer's guardrails: what happened in the 2 weeks after


@dataclass(frozen=True)
class Metric:
    """What to measure. ``harm`` says which way is bad for the customer (guardrails):
    ``rise`` (more complaints) or ``fall`` (lower NPS)."""

    key: str
    label: str  # plain words for the page
    kind: Kind
    hits: Callable[[Model], ir.Table]  # person_id, at, value: one row per occurrence
    window_days: int
    harm: Literal["rise", "fall"] = "rise"
    cuped: bool = True  # whether the pre-exposure value is measured (not for ratios)


def goal_metric(goal: EventGoal, label: str | None = None) -> Metric:
    """An analytics goal: converted within the goal's window after exposure, or the value it
    carried (``value_property``, e.g. revenue) summed over that window."""

    def hits(model: Model) -> ir.Table:
        table = conversions(model, goal)
        return table.select(person_id=table.person_id, at=table.converted_at, value=table.value)

    kind: Kind = "value" if goal.value_property else "conversion"
    return Metric(goal.key, label or goal.key, kind, hits, goal.window_days)


def _consent_hits(model: Model, *, method: str | None) -> ir.Table:
    consents = model.consents()
    chosen = consents.filter(consents.decision.isin(["withdrawn", "objected"]))
    if method is not None:
        chosen = chosen.filter(chosen.method == method)
    return chosen.select(person_id=chosen.person_id, at=chosen.recorded_at, value=ibis.literal(1.0))


def _case_hits(model: Model) -> ir.Table:
    cases = model.cases()
    return cases.select(person_id=cases.person_id, at=cases.created_at, value=ibis.literal(1.0))


def _negative_hits(model: Model) -> ir.Table:
    comments = model.comment_themes()
    # A comment with several themes has a row per theme: one per comment here.
    negative = comments.filter(
        comments.person_id.notnull() & (comments.sentiment_label == "negative")
    )
    negative = negative.group_by(["feedback_id", "person_id"]).aggregate(
        at=negative.created_at.min()
    )
    return negative.select(person_id=negative.person_id, at=negative.at, value=ibis.literal(1.0))


def _nps_hits(model: Model) -> ir.Table:
    """NPS points per answer: promoters (9-10) 100, passives 0, detractors (0-6) -100; their
    mean over answers is the NPS."""
    answers = model.answers()
    nps = answers.filter((answers.question_type == "nps") & answers.score.notnull())
    points = ibis.cases((nps.score >= 9, 100.0), (nps.score <= 6, -100.0), else_=0.0)
    return nps.select(person_id=nps.person_id, at=nps.answered_at, value=points)


# The customer's guardrails: on in every experiment, whatever its definition says.
CUSTOMER_GUARDRAILS: tuple[Metric, ...] = (
    Metric(
        "unsubscribes",
        "Unsubscribes",
        "conversion",
        lambda m: _consent_hits(m, method="unsubscribe"),
        GUARDRAIL_WINDOW_DAYS,
    ),
    Metric(
        "consent-withdrawals",
        "Consent withdrawals",
        "conversion",
        lambda m: _consent_hits(m, method=None),
        GUARDRAIL_WINDOW_DAYS,
    ),
    Metric("complaints", "Complaints (cases opened)", "conversion", _case_hits, 14),
    Metric("negative-feedback", "Negative feedback", "conversion", _negative_hits, 14),
    Metric("nps", "NPS", "ratio", _nps_hits, GUARDRAIL_WINDOW_DAYS, harm="fall", cuped=False),
)


# ---- the units -----------------------------------------------------------------------------


def units(model: Model, experiment_key: str) -> ir.Table:
    """One row per person exposed to exactly one variant: person_id, variant, first_at, day
    (of the first exposure). People served two variants are left out (``mixed``)."""
    exposures = model.exposures()
    mine = exposures.filter(exposures.experiment_key == experiment_key)
    per_person = mine.group_by("person_id").aggregate(
        variants=mine.variant.nunique(),
        variant=mine.variant.min(),
        first_at=mine.exposed_at.min(),
    )
    single = per_person.filter(per_person.variants == 1)
    return single.select(
        "person_id",
        "variant",
        "first_at",
        day=single.first_at.truncate("D").cast("date"),
    )


def mixed_count(model: Model, experiment_key: str) -> int:
    exposures = model.exposures()
    mine = exposures.filter(exposures.experiment_key == experiment_key)
    per_person = mine.group_by("person_id").aggregate(variants=mine.variant.nunique())
    return int(per_person.filter(per_person.variants > 1).count().to_pyarrow().as_py())


# ---- one metric ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moments:
    """One group's (variant and day) sufficient statistics: units, means and centred sums
    (M2 = Σ(v − mean)², C = Σ(y − ȳ)(x − x̄))."""

    n: int
    mean_y: float
    mean_x: float
    m2_y: float
    m2_x: float
    c_xy: float

    def __add__(self, other: Moments) -> Moments:
        """Chan, Golub and LeVeque's pairwise update: exact, and stable in floating point."""
        if self.n == 0:
            return other
        if other.n == 0:
            return self
        n = self.n + other.n
        dy, dx = other.mean_y - self.mean_y, other.mean_x - self.mean_x
        share = self.n * other.n / n
        return Moments(
            n=n,
            mean_y=self.mean_y + dy * other.n / n,
            mean_x=self.mean_x + dx * other.n / n,
            m2_y=self.m2_y + other.m2_y + dy * dy * share,
            m2_x=self.m2_x + other.m2_x + dx * dx * share,
            c_xy=self.c_xy + other.c_xy + dy * dx * share,
        )

    def covariate_sample(self) -> CovariateSample:
        d = max(self.n - 1, 1)
        return CovariateSample(
            self.n, self.mean_y, self.m2_y / d, self.mean_x, self.m2_x / d, self.c_xy / d
        )

    def ratio_sample(self) -> RatioSample:
        """For ratio metrics y is the numerator and x the denominator."""
        d = max(self.n - 1, 1)
        return RatioSample(
            self.n, self.mean_y, self.mean_x, self.m2_y / d, self.m2_x / d, self.c_xy / d
        )


EMPTY = Moments(0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Measured:
    metric: Metric
    totals: dict[str, Moments]  # variant -> all its units
    by_day: dict[str, dict[date, Moments]]  # variant -> day of first exposure -> units that day

    def running(self) -> list[tuple[date, dict[str, Moments]]]:
        """Day by day, every variant's units first exposed up to and including that day."""
        days = sorted({day for groups in self.by_day.values() for day in groups})
        sums = dict.fromkeys(self.by_day, EMPTY)
        found = []
        for day in days:
            for variant, groups in self.by_day.items():
                if day in groups:
                    sums[variant] = sums[variant] + groups[day]
            found.append((day, dict(sums)))
        return found


def per_person(model: Model, metric: Metric, people: ir.Table) -> ir.Table:
    """person_id, variant, day, y, x: each person's value after (y) and before (x) their first
    exposure, each over the metric's window."""
    hits = metric.hits(model)
    hits = hits.select(hit_person=hits.person_id, at=hits.at, value=hits.value)
    window = ibis.interval(days=metric.window_days)
    joined = people.left_join(
        hits,
        [
            people.person_id == hits.hit_person,
            hits.at >= people.first_at - window,
            hits.at < people.first_at + window,
        ],
    )
    # A person without occurrences has one row with ``at`` NULL: each comparison is NULL and
    # the CASE falls to 0, so they count with y = x = 0.
    after = (joined.at >= joined.first_at) & (joined.at < joined.first_at + window)
    before = joined.at < joined.first_at
    value = joined.value.cast("float64")
    sums = {
        "conversion": {
            "post": ibis.ifelse(after, 1.0, 0.0).sum(),
            "pre": ibis.ifelse(before, 1.0, 0.0).sum(),
        },
        "value": {
            "post": ibis.ifelse(after, value, 0.0).sum(),
            "pre": ibis.ifelse(before, value, 0.0).sum(),
        },
        "ratio": {
            "post": ibis.ifelse(after, value, 0.0).sum(),
            "pre": ibis.ifelse(after, 1.0, 0.0).sum(),  # the denominator: times, after
        },
    }[metric.kind]
    grouped = joined.group_by(["person_id", "variant", "day"]).aggregate(**sums)
    if metric.kind == "conversion":
        y = ibis.ifelse(grouped.post > 0, 1.0, 0.0)
        x = ibis.ifelse(grouped.pre > 0, 1.0, 0.0)
    else:  # value: after and before; ratio: numerator and denominator, both after
        y, x = grouped.post, grouped.pre
    return grouped.select("person_id", "variant", "day", y=y, x=x)


def moments_query(rows: ir.Table) -> ir.Table:
    """Per variant and day: n, means, sample variances and covariance of y and x."""
    return rows.group_by(["variant", "day"]).aggregate(
        n=rows.count(),
        mean_y=rows.y.mean(),
        mean_x=rows.x.mean(),
        var_y=rows.y.var(how="sample"),
        var_x=rows.x.var(how="sample"),
        cov_xy=rows.y.cov(rows.x, how="sample"),
    )


def _moments(row: dict[str, Any]) -> Moments:
    n = int(row["n"])
    d = n - 1

    def centred(value: Any) -> float:  # a group of one has no variance (NULL): 0
        return 0.0 if value is None or d == 0 or math.isnan(value) else float(value) * d

    return Moments(
        n,
        float(row["mean_y"]),
        float(row["mean_x"]),
        centred(row["var_y"]),
        centred(row["var_x"]),
        centred(row["cov_xy"]),
    )


def measure(model: Model, experiment_key: str, metric: Metric, variants: Sequence[str]) -> Measured:
    """One metric for every variant of the experiment: one query on the engine."""
    rows = per_person(model, metric, units(model, experiment_key))
    table = moments_query(rows).to_pyarrow().to_pylist()
    by_day: dict[str, dict[date, Moments]] = {variant: {} for variant in variants}
    for row in table:
        if row["variant"] in by_day:
            by_day[row["variant"]][row["day"]] = _moments(row)
    totals = {}
    for variant, groups in by_day.items():
        total = EMPTY
        for day in sorted(groups):
            total = total + groups[day]
        totals[variant] = total
    return Measured(metric, totals, by_day)
