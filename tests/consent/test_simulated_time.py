"""The consent services record a decision at the time they are given (the demo's simulated
clock), and at the present without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tillit.consent.evidence import Evidence
from tillit.consent.gpc import honour_gpc
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.consent.unsubscribe import apply_unsubscribe, resolve_unsubscribe, unsubscribe_token
from tillit.storage.base import utcnow

from .conftest import ACTOR, SECRET

THEN = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def test_preferences_are_recorded_at_the_given_time(session: Session, anna: int):
    then = update_preferences(
        session=session,
        customer_id=anna,
        changes={"topics": ["news"]},
        method="preference_centre",
        actor=ACTOR,
        now=THEN,
    )
    present = update_preferences(
        session=session, customer_id=anna, changes={"topics": []}, method="api", actor=ACTOR
    )
    assert then is not None and then.recorded_at == THEN
    assert present is not None and utcnow() - present.recorded_at < timedelta(minutes=1)


def test_gpc_and_unsubscribe_are_recorded_at_the_given_time(session: Session, anna: int):
    for purpose in ("partner_sharing", "marketing"):
        record_consent(
            session=session,
            customer_id=anna,
            purpose_key=purpose,
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=ACTOR,
            at=THEN - timedelta(days=30),
        )
    signal = Evidence(user_agent="Firefox (tests)", gpc=True)
    withdrawn = honour_gpc(session=session, customer_id=anna, evidence=signal, actor=ACTOR, at=THEN)
    assert withdrawn is not None and withdrawn.recorded_at == THEN
    later = THEN + timedelta(days=2)
    token = unsubscribe_token(
        session=session, customer_id=anna, scope="purpose:marketing", secret_key=SECRET
    )
    entry = resolve_unsubscribe(session=session, token=token, secret_key=SECRET)
    assert apply_unsubscribe(
        session=session, entry=entry, evidence=Evidence(), actor=ACTOR, at=later
    )
    session.flush()
    tip = session.query(type(withdrawn)).filter_by(customer_id=anna).order_by("sequence").all()
    assert [(r.method, r.recorded_at) for r in tip[-2:]] == [("gpc", THEN), ("unsubscribe", later)]
