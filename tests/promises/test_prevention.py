"""The company's promises are the contact policy's company rules: a message that would break
the quiet-hours or the cap promise is held with ``promise:<key>``, in the reference policy, the
batch form and on stored customers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from tests.contact.contact_helpers import NOW, POLICY, intent, reachable_state
from tillit.audit.service import Actor
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.contact import CappedSend, CompanyCap, QuietHours, decide, decide_batch
from tillit.contact.reasons import explain, staff_label
from tillit.contact.schema import states_to_table
from tillit.contact.service import decide_for
from tillit.promises.store import ensure_catalogue
from tillit.vocabulary import MessageKind, OutboundChannel, Period

# 22:00 in Copenhagen (UTC+2 in June), inside quiet hours 21:00-08:00
LATE = NOW + timedelta(hours=8)
QUIET = QuietHours(time(21, 0), time(8, 0))


def both(state, wanted_intent, policy):
    one = decide(state=state, intent=wanted_intent, policy=policy)
    row = decide_batch(states=states_to_table([state]), intent=wanted_intent, policy=policy)
    many = row.to_pylist()[0]
    assert (many["outcome"], many["reason"]) == (one.outcome.value, one.reason)
    return one


def test_a_marketing_message_in_quiet_hours_is_held_for_the_promise() -> None:
    policy = replace(POLICY, quiet_hours_promise="quiet-hours")
    state = reachable_state(quiet_hours=QUIET)
    held = both(state, intent(at=LATE), policy)
    assert (held.outcome.value, held.reason) == ("deferred", "promise:quiet-hours")
    assert held.defer_until == datetime(2025, 6, 5, 6, 0, tzinfo=UTC)  # 08:00 local
    assert "promise quiet-hours" in explain(held)[-3]
    assert "quiet hours" in staff_label("promise:quiet-hours")
    # A receipt may still come at night, and waits for the customer's own rule only.
    receipt = both(state, intent(at=LATE, kind=MessageKind.transactional, purpose="orders"), policy)
    assert receipt.reason == "quiet_hours"
    # Without the promise, the customer's own rule holds it as before.
    assert both(state, intent(at=LATE), POLICY).reason == "quiet_hours"


def test_a_message_over_the_cap_promise_is_held_for_it() -> None:
    sends = tuple(CappedSend(NOW - timedelta(days=d), OutboundChannel.email) for d in (1, 2))
    state = reachable_state(capped_sends=sends)
    promised = replace(
        POLICY, caps=(CompanyCap(OutboundChannel.email, 2, Period.week, promise="message-caps"),)
    )
    held = both(state, intent(), promised)
    assert (held.outcome.value, held.reason) == ("deferred", "promise:message-caps")
    plain = replace(POLICY, caps=(CompanyCap(OutboundChannel.email, 2, Period.week),))
    assert both(state, intent(), plain).reason == "company_cap"


def test_a_planned_marketing_message_in_a_stored_customers_quiet_hours(
    client, admin_headers, sessions, settings
) -> None:
    body = {
        "locale": "nb-NO",
        "time_zone": "Europe/Oslo",
        "identities": [{"type": "email", "value": "kari@example.com"}],
    }
    kari = client.post("/api/v1/customers", json=body, headers=admin_headers).json()["id"]
    actor = Actor.system("tests")
    at = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # 23:30 in Oslo
    with sessions() as session, session.begin():
        record_consent(
            session=session,
            customer_id=kari,
            purpose_key="marketing",
            decision=ConsentDecision.granted,
            method=Method.api,
            actor=actor,
        )
        update_preferences(
            session=session,
            customer_id=kari,
            changes={"quiet_hours": {"start": "22:00", "end": "07:00"}},
            method="api",
            actor=actor,
        )
    kwargs = dict(
        customer_id=kari, purpose="marketing", kind="marketing", channel="email", topic=None
    )
    with sessions() as session:
        before = decide_for(session=session, settings=settings, at=at, **kwargs).decision
    assert before.reason == "quiet_hours"  # no catalogue yet: the customer's own rule
    with sessions() as session, session.begin():
        ensure_catalogue(session=session, settings=settings)
    with sessions() as session:
        held = decide_for(session=session, settings=settings, at=at, **kwargs).decision
        day = decide_for(
            session=session, settings=settings, at=at - timedelta(hours=10), **kwargs
        ).decision
    assert (held.outcome.value, held.reason) == ("deferred", "promise:quiet-hours")
    assert held.defer_until == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    assert day.outcome.value == "allowed"
