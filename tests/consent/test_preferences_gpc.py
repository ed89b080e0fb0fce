from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from tillit.consent.evidence import Evidence
from tillit.consent.gpc import gpc_requested, honour_gpc
from tillit.consent.ledger import current_consents, history, record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import preference_history, update_preferences
from tillit.contact.log import log_decision, record_send
from tillit.contact.models import CappedSend, ConsentStatus, FrequencyCap, QuietHours
from tillit.contact.state import load_contact_state
from tillit.errors import InvalidInput
from tillit.vocabulary import OutboundChannel, Period

from .conftest import ACTOR, SECRET

CHROME = "Mozilla/5.0 Chrome/139"


def test_preference_changes_are_kept_as_history(session: Session, anna: int) -> None:
    update_preferences(
        session=session,
        customer_id=anna,
        method="preference_centre",
        actor=ACTOR,
        changes={"caps": {"email": {"count": 1, "period": "week"}}},
    )
    update_preferences(
        session=session,
        customer_id=anna,
        method="preference_centre",
        actor=ACTOR,
        changes={"quiet_hours": {"start": "21:00", "end": "08:00"}},
    )
    unchanged = update_preferences(
        session=session,
        customer_id=anna,
        method="api",
        actor=ACTOR,
        changes={"quiet_hours": {"start": "21:00", "end": "08:00"}},
    )
    session.commit()
    assert unchanged is None
    versions = preference_history(session=session, customer_id=anna)
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].changed == ["quiet_hours"]
    assert versions[1].document["quiet_hours"] is None
    with pytest.raises(InvalidInput):
        update_preferences(
            session=session,
            customer_id=anna,
            method="api",
            actor=ACTOR,
            changes={"time_zone": "Mars/Olympus"},
        )


def test_contact_state_has_what_the_policy_needs(session: Session, anna: int) -> None:
    record_consent(
        session=session,
        customer_id=anna,
        purpose_key="marketing",
        decision=ConsentDecision.granted,
        method=Method.form,
        actor=ACTOR,
    )
    update_preferences(
        session=session,
        customer_id=anna,
        method="api",
        actor=ACTOR,
        changes={
            "channels": {"sms": False},
            "caps": {"email": {"count": 2, "period": "week"}},
            "quiet_hours": {"start": "21:00", "end": "08:00"},
            "topics": ["offers"],
        },
    )
    decision = log_decision(
        session=session,
        customer_id=anna,
        channel="email",
        kind="marketing",
        outcome="allowed",
        reasons=["ok"],
        purpose_key="marketing",
    )
    record_send(
        session=session,
        customer_id=anna,
        channel="email",
        kind="marketing",
        decision_id=decision.id,
    )
    session.commit()
    state = load_contact_state(session, anna, secret_key=SECRET)
    assert state.customer_id == str(anna)
    assert state.consents["marketing"] is ConsentStatus.GRANTED
    assert OutboundChannel.email in state.allowed_channels & state.reachable_channels
    assert (
        OutboundChannel.sms not in state.allowed_channels
        and OutboundChannel.sms in state.reachable_channels
    )
    assert OutboundChannel.push not in state.reachable_channels
    assert state.quiet_hours == QuietHours(start=time(21), end=time(8))
    assert state.time_zone == "Europe/Copenhagen"
    assert state.caps == (FrequencyCap(channel=OutboundChannel.email, limit=2, period=Period.week),)
    assert state.chosen_topics == frozenset({"offers"})
    [sent] = state.capped_sends
    assert isinstance(sent, CappedSend) and sent.channel is OutboundChannel.email
    assert not state.erased and not state.suppressed and not state.objected_to_marketing
    assert not state.dialogues_off and state.pause_until is None


def test_gpc_header_parsing() -> None:
    assert gpc_requested({"sec-gpc": "1"})
    assert not gpc_requested({"sec-gpc": "0"})
    assert not gpc_requested({})


def test_gpc_wins_over_an_earlier_grant_and_both_are_kept(session: Session, anna: int) -> None:
    earlier = datetime.now(UTC) - timedelta(days=3)
    record_consent(
        session=session,
        customer_id=anna,
        purpose_key="partner_sharing",
        decision=ConsentDecision.granted,
        method=Method.form,
        actor=ACTOR,
        at=earlier,
    )
    withdrawal = honour_gpc(
        session=session,
        customer_id=anna,
        actor=ACTOR,
        evidence=Evidence(ip="198.51.100.7", user_agent=CHROME, gpc=True),
    )
    session.commit()
    assert withdrawal is not None and withdrawal.method == "gpc"
    decisions = [(e.decision, e.method) for e in history(session=session, customer_id=anna)]
    assert decisions == [("granted", "form"), ("withdrawn", "gpc")]
    # Already withdrawn: the next request with the header adds nothing.
    assert (
        honour_gpc(
            session=session,
            customer_id=anna,
            actor=ACTOR,
            evidence=Evidence(user_agent=CHROME, gpc=True),
        )
        is None
    )


def test_regrant_after_signal_in_same_browser_is_respected(session: Session, anna: int) -> None:
    record_consent(
        session=session,
        customer_id=anna,
        purpose_key="partner_sharing",
        decision=ConsentDecision.granted,
        method=Method.form,
        actor=ACTOR,
    )
    honour_gpc(
        session=session,
        customer_id=anna,
        actor=ACTOR,
        evidence=Evidence(user_agent=CHROME, gpc=True),
    )
    record_consent(
        session=session,
        customer_id=anna,
        purpose_key="partner_sharing",
        decision=ConsentDecision.granted,
        method=Method.preference_centre,
        actor=ACTOR,
        evidence=Evidence(user_agent=CHROME, gpc=True),
    )
    assert (
        honour_gpc(
            session=session,
            customer_id=anna,
            actor=ACTOR,
            evidence=Evidence(user_agent=CHROME, gpc=True),
        )
        is None
    )
    # Another browser still sending GPC wins again.
    again = honour_gpc(
        session=session,
        customer_id=anna,
        actor=ACTOR,
        evidence=Evidence(user_agent="Mozilla/5.0 Firefox/140", gpc=True),
    )
    session.commit()
    assert again is not None
    assert current_consents(session=session, customer_id=anna)["partner_sharing"].decision == (
        "withdrawn"
    )
