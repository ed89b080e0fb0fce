"""A person's answers, comments and case notes in the export, and gone after erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.dialogues import cases, catalogue, delivery, in_place, scheduling
from tillit.dialogues.models import Ask, AskStatus, Case
from tillit.dialogues.responses import Answer, submit
from tillit.privacy.erasure import erase_customer
from tillit.privacy.export import export_customer

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
COMMENT = "Leveransen var sen och paketet trasigt"
NOTE = "Ringde kunden om det trasiga paketet"


def test_answers_and_case_notes_are_exported_then_erased(
    sessions, settings, traces_of, make_customer
):
    customer = make_customer(email="astrid.privacy@example.com")
    with sessions() as session:
        question = catalogue.get_question(session=session, key="nps_relationship")
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=customer,
            question=question,
            channel="web",
            trigger="t",
            reason="t",
            now=NOW,
        )
        assert issued is not None
        submit(
            session=session,
            settings=settings,
            ask=issued.ask,
            answer=Answer(score=2, follow_up=COMMENT),
            now=NOW,
        )
        case = session.scalars(select(Case)).one()
        cases.add_note(
            session=session, case_id=case.id, body=NOTE, actor=Actor.system("agent"), now=NOW
        )
        session.commit()
    with sessions() as session:
        document = export_customer(session=session, customer_id=customer)
    assert document["dialogues"]["responses"][0]["follow_up"] == COMMENT
    assert document["dialogues"]["cases"][0]["status"] == "open"

    with sessions() as session, session.begin():
        proof = erase_customer(
            session=session,
            customer_id=customer,
            secret_key=settings.secret_key,
            actor=Actor.system("tests"),
        )
    assert proof.counts["dialogues"] >= 2
    assert traces_of(COMMENT, NOTE, "astrid.privacy@example.com") == []


def test_an_invitation_the_contact_policy_held_does_not_block_erasure(
    sessions, settings, make_customer
):
    """The held ask keeps its status for the metrics, but the contact decision that held it
    is erased: the ask's link to it goes first (it used to fail the erasure on the foreign
    key, from the preference centre a 500)."""
    customer = make_customer(email="held.invitation@example.com", research=False)
    with sessions() as session:
        scheduling.on_event(session, customer, "Order Completed", NOW)
        session.commit()
        counts = delivery.deliver_due(
            session=session,
            settings=settings,
            now=NOW + timedelta(hours=49),
            send=lambda ask, token: None,
        )
    assert counts["held"] == 1
    with sessions() as session:
        assert session.scalars(select(Ask.decision_id)).one() is not None

    with sessions() as session, session.begin():
        proof = erase_customer(
            session=session,
            customer_id=customer,
            secret_key=settings.secret_key,
            actor=Actor.system("tests"),
        )
    assert proof.counts["contact_decision"] == 1
    with sessions() as session:
        held = session.scalars(select(Ask)).one()
    assert (held.status, held.decision_id) == (AskStatus.held, None)
