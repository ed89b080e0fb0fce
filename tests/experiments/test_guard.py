"""The customer's guardrails end to end on a real database and the analytics layer: a variant
that makes people unsubscribe is stopped by the jobs round, audited, and the results page, the
API and the CSV say which guardrail and which variant. And the audience segment at assignment."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.experiments.conftest import definition
from tillit.analytics import reports
from tillit.analytics.goal_store import define_goal
from tillit.analytics.models import Segment, SegmentMember
from tillit.analytics.snapshots import refresh_snapshots
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.errors import InvalidInput
from tillit.experiments.assignment import assign, assign_many, outside_audience
from tillit.experiments.definitions import parse_definition
from tillit.experiments.guard import guard_experiments
from tillit.experiments.models import Experiment, ExperimentStatus
from tillit.experiments.service import create_experiment, get_experiment, start_experiment
from tillit.staff.models import StaffUser
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tests")
HARSH = {
    "key": "newsletter-tone",
    "hypothesis": "A pushier newsletter raises orders.",
    "variants": [
        {"key": "control", "weight": 1, "description": "Friendly"},
        {"key": "pushy", "weight": 1, "description": "Pushy"},
    ],
    "primary_goal": "order-completed",
}


def _analyse_round(sessions: SessionFactory, settings: Settings):
    shutil.rmtree(settings.data_dir / "lake", ignore_errors=True)  # this test's data only
    refresh_snapshots(sessions=sessions, data_dir=settings.data_dir)
    return guard_experiments(
        sessions=sessions,
        keep=partial(reports.cached, settings.model_copy(update={"analytics_engine": "duckdb"})),
        now=utcnow(),
    )


def test_a_variant_that_makes_people_unsubscribe_is_stopped_and_the_page_says_which(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    staff_as: Callable[[str], tuple[StaffUser, str]],
    make_customer: Callable[..., int],
    running: Callable[..., str],
) -> None:
    with sessions() as session, session.begin():
        define_goal(
            session=session,
            key="order-completed",
            name="Completed orders",
            event="Order Completed",
            actor=ACTOR,
        )
    key = running(**HARSH)
    people = [make_customer(f"Person {n}") for n in range(240)]
    with sessions() as session, session.begin():
        served = assign_many(session=session, key=key, customer_ids=people)
    pushy = [p for p, v in served.items() if v == "pushy"]
    friendly = [p for p, v in served.items() if v == "control"]
    assert 90 < len(pushy) < 150
    # Half of the pushy variant's people unsubscribe; two of the control's.
    with sessions() as session, session.begin():
        for person in pushy[: len(pushy) // 2] + friendly[:2]:
            record_consent(
                session=session,
                customer_id=person,
                purpose_key="marketing",
                decision=ConsentDecision.withdrawn,
                method=Method.unsubscribe,
                actor=ACTOR,
            )

    report = _analyse_round(sessions, settings)
    assert report.failed == {} and list(report.stopped) == [key]
    with sessions() as session:
        experiment = get_experiment(session=session, key=key)
        assert experiment.status == ExperimentStatus.stopped
        assert experiment.stopped_by == "experiment guardrail"
        reason = experiment.stop_reason or ""
        assert reason.startswith("Stopped by itself: its guardrail Unsubscribes showed harm")
        assert "in variant “Pushy”: +" in reason and "percentage points" in reason
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "experiment.stop", AuditEntry.entity_id == key
            )
        ).one()
        assert audit.actor_label == "experiment guardrail"

    staff_as("analyst")
    page = client.get(f"/staff/experiments/{key}")
    assert page.status_code == 200
    text = page.text
    assert "Variant “Pushy” harms the customer" in text and "Unsubscribes" in text
    assert "Stopped by its guardrail" in text and 'class="intervals"' in text
    assert text.count("Stopped by itself: its guardrail Unsubscribes") == 1  # not twice
    # Every metric's intervals: the primary goal and each of the customer's guardrails.
    for name in ("Completed orders", "Consent withdrawals", "Complaints", "NPS"):
        assert name in text

    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/staff/experiments/{key}/results.csv").text))
    )
    harmed = [r for r in rows if r["harmed"] == "True"]
    assert {(r["metric"], r["variant"]) for r in harmed} >= {("unsubscribes", "pushy")}
    unsubscribes = next(r for r in rows if r["metric"] == "unsubscribes")
    assert float(unsubscribes["sequential_ci_low"]) > 0
    assert int(unsubscribes["n_control"]) == len(friendly)
    primary = next(r for r in rows if r["metric"] == "order-completed")
    assert primary["difference"] == ""  # nobody ordered in either variant: nothing to compare

    # The next round leaves a stopped experiment alone.
    assert list(_analyse_round(sessions, settings).stopped) == []


def test_results_api_and_a_harmless_experiment_keeps_running(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    token_for: Callable[..., str],
    make_customer: Callable[..., int],
    running: Callable[..., str],
) -> None:
    key = running(**HARSH)
    people = [make_customer(f"Person {n}") for n in range(40)]
    with sessions() as session, session.begin():
        assign_many(session=session, key=key, customer_ids=people)
    report = _analyse_round(sessions, settings)
    assert report.checked == [key] and report.stopped == {}
    headers = {"Authorization": f"Bearer {token_for('experiments:read')}"}
    body = client.get(f"/api/v1/experiments/{key}/results", headers=headers).json()
    assert body["status"] == "running" and sum(body["units"].values()) == 40
    assert body["harmed"] == [] and "not defined as an analytics goal" in body["verdict"]
    metrics = {row["metric"] for row in body["comparisons"]}
    assert {"unsubscribes", "consent-withdrawals", "complaints", "nps"} <= metrics
    missing = client.get("/api/v1/experiments/nothing-here/results", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    csv_text = client.get(f"/api/v1/experiments/{key}/results.csv", headers=headers).text
    assert csv_text.splitlines()[0].startswith("metric,metric_name,role,kind,variant")


def test_people_outside_the_audience_segment_are_not_assigned_and_are_counted(
    sessions: SessionFactory,
    make_customer: Callable[..., int],
) -> None:
    member, stranger, later = make_customer("In"), make_customer("Out"), make_customer("Late")
    with sessions() as session, session.begin():
        create_experiment(
            session=session,
            definition=parse_definition(definition("vip-copy", segment="vip")),
            actor=ACTOR,
        )
    with sessions() as session, session.begin(), pytest.raises(InvalidInput) as refused:
        start_experiment(session=session, key="vip-copy", actor=ACTOR)
    assert refused.value.errors[0].field == "segment"  # a segment that does not exist yet
    with sessions() as session, session.begin():
        segment = Segment(key="vip", name="VIP", purpose_key="marketing")
        session.add(segment)
        session.flush()
        session.add(SegmentMember(segment_id=segment.id, customer_id=member))
        session.add(SegmentMember(segment_id=segment.id, customer_id=later))
        start_experiment(session=session, key="vip-copy", actor=ACTOR)
    with sessions() as session, session.begin():
        inside = assign(session=session, key="vip-copy", customer_id=member)
        outside = assign(session=session, key="vip-copy", customer_id=stranger)
        again = assign(session=session, key="vip-copy", customer_id=stranger)
        batch = assign_many(session=session, key="vip-copy", customer_ids=[member, stranger, later])
    assert inside.variant is not None and inside.in_audience
    assert outside.variant is None and not outside.in_audience and not again.in_audience
    assert set(batch) == {member, later} and batch[member] == inside.variant
    with sessions() as session, session.begin():
        experiment = session.scalars(select(Experiment).where(Experiment.key == "vip-copy")).one()
        assert outside_audience(session, experiment) == 1  # one person, asked three times
        # Sticky: a member who leaves the segment keeps the variant first served.
        session.execute(
            SegmentMember.__table__.delete().where(SegmentMember.customer_id == member)  # type: ignore[attr-defined]
        )
    with sessions() as session, session.begin():
        assert assign(session=session, key="vip-copy", customer_id=member).variant == inside.variant
