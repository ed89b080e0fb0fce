"""A customer who turned dialogue questions off is held back as `dialogues_off` everywhere: by
the dialogue rules (in place and for a due invitation), by the contact policy for one message and
for a whole audience, and so counted under that one reason on the staff overview. (The policy
said `no_consent` while the dialogue rules said `dialogues_off`, so hold-backs were counted under
two reasons.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.contact.models import DIALOGUE_PURPOSE
from tillit.contact.reasons import DIALOGUES_OFF
from tillit.contact.service import decide_audience, decide_for, make_intent
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import create_customer
from tillit.dialogues import delivery, in_place, scheduling
from tillit.dialogues.models import Question
from tillit.overview.service import message_counts
from tillit.storage.base import utcnow
from tillit.vocabulary import MessageKind

ACTOR = Actor.system("tests")


def test_dialogues_off_is_one_reason_everywhere(sessions, settings, defaults):
    with sessions() as session, session.begin():
        customer_id = create_customer(
            session=session,
            defaults=defaults,
            actor=ACTOR,
            data=CustomerCreate(
                name="Sanne Voorbeeld",
                locale="nl",
                identities=[IdentityCreate(type="email", value="sanne@example.com")],
            ),
        ).id
        record_consent(  # research is granted: only the preference stands in the way
            session=session,
            customer_id=customer_id,
            purpose_key=DIALOGUE_PURPOSE,
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=ACTOR,
            evidence=Evidence(),
        )
        update_preferences(
            session=session,
            customer_id=customer_id,
            changes={"dialogues": False},
            method="form",
            actor=ACTOR,
        )
    started = utcnow()
    with sessions() as session:
        one = decide_for(  # logged, as a sender that means to send asks for it
            session=session,
            customer_id=customer_id,
            purpose=DIALOGUE_PURPOSE,
            kind=MessageKind.dialogue,
            channel="email",
            topic=None,
            settings=settings,
            log=True,
        )
        intent = make_intent(
            purpose=DIALOGUE_PURPOSE, kind=MessageKind.dialogue, channel="email", topic=None
        )
        [many] = list(
            decide_audience(
                session=session, customer_ids=[customer_id], intent=intent, settings=settings
            )
        )
        shown = in_place.may_ask_in_place(
            session=session, settings=settings, customer_id=customer_id
        )
        invitation = scheduling.schedule(
            session=session,
            customer_id=customer_id,
            question=session.scalars(select(Question).order_by(Question.id)).first(),
            trigger="test",
            reason="test",
            due_at=started,
        )
        assert invitation is not None
        session.commit()
        delivered = delivery.deliver_due(
            session=session, settings=settings, send=lambda ask, token: None
        )
        counted = message_counts(session=session, since=started - timedelta(minutes=1))
    reasons = [check.reason for check in one.decision.checks if check.reason]
    assert one.decision.outcome == "denied" and reasons[0] == DIALOGUES_OFF
    assert (many["outcome"], many["reason"]) == ("denied", DIALOGUES_OFF)
    assert shown == DIALOGUES_OFF
    assert delivered["held"] == 1 and invitation.held_reason == DIALOGUES_OFF
    assert counted.held_by_reason == [(DIALOGUES_OFF, 1)]
