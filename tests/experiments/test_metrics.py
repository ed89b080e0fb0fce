"""An experiment's metrics on the analytics layer, on DuckDB and Spark: the same numbers from the
same files, and those numbers are what the definitions say (checked by hand per person).

The files are written with pyarrow in the lake's and the snapshots' own layouts, as the jobs
process writes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend
from sqlalchemy import update

from tests.analytics.conftest import analytics_settings, backend, parquet_only  # noqa: F401
from tillit.analytics import reports
from tillit.analytics.engine import connect
from tillit.analytics.goal_store import define_goal
from tillit.analytics.goals import EventGoal
from tillit.analytics.models import Goal
from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.events.lake import SCHEMA, lake_root
from tillit.experiments.metrics import (
    CUSTOMER_GUARDRAILS,
    Moments,
    goal_metric,
    measure,
    mixed_count,
)
from tillit.experiments.models import Experiment, ExperimentStatus
from tillit.experiments.results import Counts, analyse, flat_rows
from tillit.storage.session import SessionFactory

pytestmark = parquet_only

KEY = "checkout-copy"
ACTOR = Actor.system("tests")
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TWIN = 10  # a profile merged into person 2


def _day(n: int, hours: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hours)


# person -> (variant, exposed at)
EXPOSED = {
    1: ("control", _day(0)),
    2: ("control", _day(0)),
    3: ("control", _day(1)),
    4: ("control", _day(1)),
    5: ("pay-now", _day(0)),
    6: ("pay-now", _day(0)),
    7: ("pay-now", _day(1)),
    8: ("pay-now", _day(1)),
}
# (customer, when, revenue)
ORDERS = [
    (1, _day(-3), 40.0),  # before exposure: CUPED's pre value, not the metric
    (TWIN, _day(2), 25.0),  # person 2 through the merged profile
    (5, _day(2), 100.0),
    (6, _day(20), 80.0),  # after the 7-day window: not counted
    (7, _day(2), 50.0),
    (7, _day(3), 30.0),  # a second order in the window: value adds up, converts once
    (9, _day(2), 70.0),  # person 9 saw both variants: left out
    (8, _day(-30), 10.0),  # before the window before exposure: not the pre value either
]


def _write(data_dir: Path) -> None:
    events = []
    for event_id, (customer, when, revenue) in enumerate(ORDERS, start=1):
        events.append(
            {
                "id": event_id,
                "source_id": 1,
                "message_id": f"m{event_id}",
                "type": "track",
                "name": "Order Completed",
                "channel": "web",
                "anonymous_id": None,
                "user_id": f"u{customer}",
                "customer_id": customer,
                "timestamp": when,
                "received_at": when,
                "payload": orjson.dumps({"properties": {"revenue": revenue}}).decode(),
            }
        )
    folder = lake_root(data_dir) / "date=2026-03-04"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(events, schema=SCHEMA), folder / "part-1.parquet")
    exposures = [
        {
            "exposure_id": person,
            "experiment_key": KEY,
            "customer_id": person,
            "variant": variant,
            "via": "api",
            "exposed_at": at,
        }
        for person, (variant, at) in EXPOSED.items()
    ]
    exposures += [
        {"exposure_id": 20, "experiment_key": KEY, "customer_id": 9, "variant": "control"}
        | {"via": "api", "exposed_at": _day(0)},
        {"exposure_id": 21, "experiment_key": KEY, "customer_id": 9, "variant": "pay-now"}
        | {"via": "track", "exposed_at": _day(1)},
        {"exposure_id": 22, "experiment_key": "other", "customer_id": 1, "variant": "b"}
        | {"via": "api", "exposed_at": _day(0)},
    ]
    cases = [  # complaints: two in the variant, one in the control, one too late
        (1, 5, _day(1)),
        (2, 6, _day(3)),
        (3, 1, _day(-5)),
        (4, 3, _day(40)),
    ]
    snapshots = {
        "consents": [
            {"consent_id": 1, "customer_id": 6, "sequence": 1, "purpose_key": "marketing"}
            | {"decision": "withdrawn", "method": "unsubscribe", "recorded_at": _day(2)},
            {"consent_id": 2, "customer_id": 3, "sequence": 1, "purpose_key": "marketing"}
            | {"decision": "objected", "method": "form", "recorded_at": _day(2)},
            {"consent_id": 3, "customer_id": 4, "sequence": 1, "purpose_key": "marketing"}
            | {"decision": "granted", "method": "form", "recorded_at": _day(2)},
        ],
        "answers": [
            {"response_id": 1, "customer_id": 5, "question_type": "nps", "score": 10}
            | {"answered_at": _day(3)},
            {"response_id": 2, "customer_id": 1, "question_type": "nps", "score": 3}
            | {"answered_at": _day(2)},
            {"response_id": 3, "customer_id": 1, "question_type": "nps", "score": 8}
            | {"answered_at": _day(4)},
            {"response_id": 4, "customer_id": 2, "question_type": "csat", "score": 1}
            | {"answered_at": _day(2)},
        ],
        "comment_themes": [  # one negative comment with two themes: one comment
            {"feedback_id": 1, "customer_id": 7, "sentiment_label": "negative", "theme_key": t}
            | {"created_at": _day(2)}
            for t in ("delivery", "price")
        ]
        + [
            {"feedback_id": 2, "customer_id": 8, "sentiment_label": "positive", "theme_key": "x"}
            | {"created_at": _day(2)}
        ],
        "exposures": exposures,
        "person_map": [{"customer_id": TWIN, "person_id": 2}],
        "cases": [
            {"case_id": case_id, "customer_id": customer, "response_id": None, "rule": "r"}
            | {"priority": "normal", "status": "open", "escalation_level": 0, "created_at": at}
            for case_id, customer, at in cases
        ],
    }
    for name, rows in snapshots.items():
        path = snapshot_path(data_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=BY_NAME[name].schema), path)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("experiment-lake")
    _write(folder)
    return folder


ORDERS_GOAL = EventGoal("orders", "Order Completed", window_days=7)
REVENUE_GOAL = EventGoal("revenue", "Order Completed", window_days=7, value_property="revenue")
# By hand, per person in the definition's order (control 1-4, pay-now 5-8):
CONVERTED = {"control": [0, 1, 0, 0], "pay-now": [1, 0, 1, 0]}
CONVERTED_BEFORE = {"control": [1, 0, 0, 0], "pay-now": [0, 0, 0, 0]}
REVENUE = {"control": [0, 25, 0, 0], "pay-now": [100, 0, 80, 0]}
REVENUE_BEFORE = {"control": [40, 0, 0, 0], "pay-now": [0, 0, 0, 0]}


def _expected(y: list[float], x: list[float]) -> tuple[int, float, float, float, float, float]:
    a, b = np.array(y, float), np.array(x, float)
    cov = np.cov(a, b, ddof=1)
    return len(a), a.mean(), b.mean(), cov[0, 0], cov[1, 1], cov[0, 1]


def _observed(moments: Moments) -> tuple[int, float, float, float, float, float]:
    sample = moments.covariate_sample()
    return (
        sample.n,
        sample.mean,
        sample.mean_pre,
        sample.variance,
        sample.variance_pre,
        sample.covariance,
    )


@pytest.mark.parametrize(
    ("goal", "after", "before"),
    [(ORDERS_GOAL, CONVERTED, CONVERTED_BEFORE), (REVENUE_GOAL, REVENUE, REVENUE_BEFORE)],
)
def test_goal_metrics_after_and_before_exposure(
    backend: BaseBackend,  # noqa: F811
    lake: Path,
    goal: EventGoal,
    after: dict[str, list[float]],
    before: dict[str, list[float]],
) -> None:
    measured = measure(Model(backend, lake), KEY, goal_metric(goal), ["control", "pay-now"])
    for variant in ("control", "pay-now"):
        assert _observed(measured.totals[variant]) == pytest.approx(
            _expected(after[variant], before[variant]), abs=1e-12
        )
    # By day of first exposure: persons 1, 2 and 5, 6 on the first day.
    days = {v: sorted(g) for v, g in measured.by_day.items()}
    assert days == {v: [date(2026, 3, 2), date(2026, 3, 3)] for v in days}
    running = measured.running()
    assert [sums["pay-now"].n for _, sums in running] == [2, 4]
    assert running[-1][1]["pay-now"] == pytest.approx(measured.totals["pay-now"])


def test_complaints_guardrail_counts_cases_opened_after_exposure(
    backend: BaseBackend,  # noqa: F811
    lake: Path,
) -> None:
    complaints = next(m for m in CUSTOMER_GUARDRAILS if m.key == "complaints")
    measured = measure(Model(backend, lake), KEY, complaints, ["control", "pay-now"])
    assert measured.totals["control"].mean_y == pytest.approx(0.0)  # person 1's came before
    assert measured.totals["control"].mean_x == pytest.approx(0.25)
    assert measured.totals["pay-now"].mean_y == pytest.approx(0.5)


def test_people_served_two_variants_are_left_out_and_counted(
    backend: BaseBackend,  # noqa: F811
    lake: Path,
) -> None:
    model = Model(backend, lake)
    assert mixed_count(model, KEY) == 1
    measured = measure(model, KEY, goal_metric(ORDERS_GOAL), ["control", "pay-now"])
    assert {v: m.n for v, m in measured.totals.items()} == {"control": 4, "pay-now": 4}


# Per person, control 1-4 and pay-now 5-8, within 14 days after exposure.
GUARDRAIL_AFTER = {
    "unsubscribes": {"control": [0, 0, 0, 0], "pay-now": [0, 1, 0, 0]},
    "consent-withdrawals": {"control": [0, 0, 1, 0], "pay-now": [0, 1, 0, 0]},
    "negative-feedback": {"control": [0, 0, 0, 0], "pay-now": [0, 0, 1, 0]},
}


def test_the_customers_guardrails(backend: BaseBackend, lake: Path) -> None:  # noqa: F811
    model = Model(backend, lake)
    by_key = {m.key: m for m in CUSTOMER_GUARDRAILS}
    for key, expected in GUARDRAIL_AFTER.items():
        measured = measure(model, KEY, by_key[key], ["control", "pay-now"])
        for variant, values in expected.items():
            assert measured.totals[variant].mean_y == pytest.approx(np.mean(values)), key
    # NPS: points per answer (promoter 100, passive 0, detractor -100), numerator and
    # denominator per person: person 1 answered 3 (-100) and 8 (0); person 5 answered 10.
    nps = measure(model, KEY, by_key["nps"], ["control", "pay-now"])
    control, variant = nps.totals["control"].ratio_sample(), nps.totals["pay-now"].ratio_sample()
    assert (control.mean_numerator, control.mean_denominator) == pytest.approx((-25.0, 0.5))
    assert control.ratio == pytest.approx(-50.0) and variant.ratio == pytest.approx(100.0)


def _define_orders_and_revenue(sessions: SessionFactory) -> None:
    with sessions() as session, session.begin():
        define_goal(
            session=session, key="orders", name="Orders", event="Order Completed", actor=ACTOR
        )
        define_goal(
            session=session,
            key="revenue",
            name="Revenue",
            event="Order Completed",
            value_property="revenue",
            actor=ACTOR,
        )


def _checkout() -> Experiment:
    return Experiment(
        key=KEY,
        name="Checkout button copy",
        variants=[{"key": "control", "weight": 1}, {"key": "pay-now", "weight": 1}],
        control="control",
        primary_goal="orders",
        secondary_goals=["revenue"],
        guardrails=[],
        status=ExperimentStatus.running,
        started_at=START,
    )


def test_results_correct_the_goals_together_and_not_the_guardrails(
    analytics_settings: Settings,  # noqa: F811
    lake: Path,
    sessions: SessionFactory,
) -> None:
    """Holm over the primary and secondary goals (the family of 2 here), its adjusted p-values
    and intervals in the CSV's rows; the guardrails unadjusted."""
    _define_orders_and_revenue(sessions)
    experiment = _checkout()
    model = Model(connect(analytics_settings, "duckdb"), lake)
    with sessions() as session:
        found = analyse(session=session, model=model, experiment=experiment, now=_day(30))
    rows = {row["metric"]: row for row in flat_rows(found)}
    orders, revenue = rows["orders"], rows["revenue"]
    ps = sorted([orders["sequential_p_value"], revenue["sequential_p_value"]])
    assert orders["correction"] == revenue["correction"] == "holm"
    assert sorted([orders["adjusted_p_value"], revenue["adjusted_p_value"]]) == pytest.approx(
        [min(1, 2 * ps[0]), min(1, max(2 * ps[0], ps[1]))]
    )
    # Bonferroni's intervals at 1 - 0.05/2 are wider than the unadjusted ones.
    assert orders["adjusted_ci_low"] < orders["sequential_ci_low"]
    assert orders["mean_control"] == pytest.approx(0.25) and orders["n_variant"] == 4
    assert rows["complaints"]["correction"] is None and rows["complaints"]["harmed"] is False
    assert found.units == {"control": 4, "pay-now": 4} and found.mixed == 1
    assert found.days_running == 30 and "Orders" in found.primary.metric.label


def test_kept_counts_answer_as_counting_does_once_per_data_and_goals(
    analytics_settings: Settings,  # noqa: F811
    lake: Path,
    sessions: SessionFactory,
) -> None:
    """The pages keep an experiment's counts under the data's mark: the same results as
    counting, counted once, kept on disk across processes, and counted again when a goal the
    experiment reads changes."""
    _define_orders_and_revenue(sessions)
    experiment = _checkout()
    settings = analytics_settings.model_copy(
        update={"data_dir": lake, "analytics_engine": "duckdb"}
    )
    counted: list[int] = []

    def keep(key: Sequence[Any], compute: Callable[[Model], Counts]) -> Counts:
        def counting(model: Model) -> Counts:
            counted.append(1)
            return compute(model)

        return reports.cached(settings, key, counting)

    model = Model(connect(settings, "duckdb"), lake)

    def rows(**counting: Any) -> list[dict[str, Any]]:
        with sessions() as session:
            return flat_rows(
                analyse(session=session, experiment=experiment, now=_day(30), **counting)
            )

    direct = rows(model=model)
    first, again = rows(keep=keep), rows(keep=keep)
    reports.clear_cache()  # another process: the counts read back from the data directory
    other = rows(keep=keep)
    assert first == direct and again == direct and other == direct
    assert len(counted) == 1
    with sessions() as session, session.begin():
        session.execute(update(Goal).where(Goal.key == "orders").values(window_days=1))
    changed = rows(keep=keep)
    assert len(counted) == 2
    orders = [row for row in changed if row["metric"] == "orders"]
    assert orders != [row for row in direct if row["metric"] == "orders"]
