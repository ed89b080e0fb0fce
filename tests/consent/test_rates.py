"""Weekly grant rates: each week counts a customer's latest decision by its end, the jobs
process keeps them as a snapshot, and the staff page shows that snapshot with its time."""

from __future__ import annotations

from datetime import timedelta

from tillit.audit.service import Actor
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.rates import (
    latest_weekly_rates,
    measure_weekly_rates,
    measure_weekly_rates_if_due,
    weekly_grant_rates,
)
from tillit.customers.schemas import CustomerCreate
from tillit.customers.service import create_customer
from tillit.storage.base import utcnow

ACTOR = Actor.system("tests")


def _decide(session, customer_id: int, decision: ConsentDecision, days_ago: int) -> None:
    record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key="marketing",
        decision=decision,
        method=Method.form,
        actor=ACTOR,
        at=utcnow() - timedelta(days=days_ago),
    )


def test_each_week_counts_the_latest_decision_by_its_end(sessions, defaults):
    with sessions() as session, session.begin():
        ids = [
            create_customer(
                session=session, defaults=defaults, actor=ACTOR, data=CustomerCreate(name=name)
            ).id
            for name in ("Anna", "Bo")
        ]
        _decide(session, ids[0], ConsentDecision.granted, days_ago=40)  # weeks -5 .. -1: granted
        _decide(session, ids[0], ConsentDecision.withdrawn, days_ago=10)  # from week -1: withdrawn
        _decide(session, ids[1], ConsentDecision.denied, days_ago=20)  # from week -2: denied
        _decide(
            session, ids[1], ConsentDecision.granted, days_ago=20
        )  # the same day, later: granted
        series = weekly_grant_rates(session=session, purpose_key="marketing")
    rates = [rate for _, rate in series]
    assert len(rates) == 12
    assert rates[:6] == [None] * 6  # before anyone decided
    assert rates[6] == 1.0  # 5 weeks ago (35 days): only Anna, granted
    assert rates[9] == 1.0  # 2 weeks ago (14 days): Anna still granted, Bo granted
    assert rates[10] == 0.5  # 1 week ago (7 days): Anna withdrew 10 days ago
    assert rates[11] == 0.5


def test_the_jobs_process_keeps_them_and_the_page_shows_the_snapshot(
    sessions, defaults, client, staff_as
):
    now = utcnow()
    with sessions() as session, session.begin():
        customer_id = create_customer(
            session=session, defaults=defaults, actor=ACTOR, data=CustomerCreate(name="Cai")
        ).id
        _decide(session, customer_id, ConsentDecision.granted, days_ago=3)
        measured = measure_weekly_rates(session=session, now=now)
    assert measured.by_purpose["marketing"][-1][1] == 1.0
    with sessions() as session, session.begin():
        assert measure_weekly_rates_if_due(session=session, now=now + timedelta(minutes=1)) is None
        latest = latest_weekly_rates(session=session)
        assert latest is not None and latest.by_purpose == measured.by_purpose
        # A withdrawal shows once the snapshot is measured again, not per request.
        _decide(session, customer_id, ConsentDecision.withdrawn, days_ago=0)
    staff_as("analyst")
    page = client.get("/staff/consent")
    assert page.status_code == 200
    today = now.date().isoformat()
    assert "Weekly grant rates as measured" in page.text and f"{today} 100%" in page.text
    with sessions() as session, session.begin():
        again = measure_weekly_rates_if_due(session=session, now=now + timedelta(minutes=6))
    assert again is not None and again.by_purpose["marketing"][-1][1] == 0.0
    assert f"{today} 0%" in client.get("/staff/consent").text
