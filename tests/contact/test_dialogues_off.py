"""A customer who turned dialogue questions off is held back as `dialogues_off` everywhere: by
the dialogue rules, by the contact policy for one message and for a whole audience. (The policy
said `no_consent` while the dialogue rules said `dialogues_off`, so hold-backs were counted under
two reasons.)"""

from __future__ import annotations

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import Decision, Method
from tillit.consent.preferences import update_preferences
from tillit.contact.models import DIALOGUE_PURPOSE, Kind
from tillit.contact.reasons import DIALOGUES_OFF
from tillit.contact.service import decide_audience, decide_for, make_intent
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import create_customer
from tillit.dialogues import asks

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
            decision=Decision.granted,
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
    with sessions() as session:
        one = decide_for(
            session=session,
            customer_id=customer_id,
            purpose=DIALOGUE_PURPOSE,
            kind=Kind.DIALOGUE,
            channel="email",
            topic=None,
            settings=settings,
        )
        intent = make_intent(
            purpose=DIALOGUE_PURPOSE, kind=Kind.DIALOGUE, channel="email", topic=None
        )
        [many] = list(
            decide_audience(
                session=session, customer_ids=[customer_id], intent=intent, settings=settings
            )
        )
        in_place = asks.may_ask_in_place(
            session=session, settings=settings, customer_id=customer_id
        )
    reasons = [check.reason for check in one.decision.checks if check.reason]
    assert one.decision.outcome == "denied" and reasons[0] == DIALOGUES_OFF
    assert (many["outcome"], many["reason"]) == ("denied", DIALOGUES_OFF)
    assert in_place == DIALOGUES_OFF
