"""Fixtures for outbox tests: fictional customers on example.com who may get marketing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.outbox import Outgoing
from tillit.storage.session import SessionFactory
from tillit.vocabulary import MessageKind, OutboundChannel

ACTOR = Actor.system("tests")
# A Wednesday at noon in Copenhagen: no quiet hours in the way.
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


@pytest.fixture
def make_customer(sessions: SessionFactory, defaults: Defaults) -> Callable[..., int]:
    def make(*, email: str | None = None, phone: str | None = None, marketing: bool = True) -> int:
        identities = []
        if email:
            identities.append(IdentityCreate(type="email", value=email))
        if phone:
            identities.append(IdentityCreate(type="phone", value=phone))
        with sessions() as session:
            customer = create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(name="Testperson", locale="da", identities=identities),
            )
            if marketing:
                record_consent(
                    session=session,
                    customer_id=customer.id,
                    purpose_key="marketing",
                    decision=ConsentDecision.granted,
                    method=Method.form,
                    actor=ACTOR,
                    channel="web",
                    evidence=Evidence(ip=None, user_agent=None),
                    at=NOW.replace(year=2025),
                )
            session.commit()
            return customer.id

    return make


def outgoing(customer_id: int, key: str, **changes: object) -> Outgoing:
    values: dict[str, object] = {
        "customer_id": customer_id,
        "channel": OutboundChannel.email,
        "kind": MessageKind.marketing,
        "topic": "offers",
        "purpose_key": "marketing",
        "language": "da",
        "subject": "Forårsudsalg",
        "body": "Hej Testperson,\n\nAlt i haven er 20 % billigere i denne uge.",
        "not_before": NOW,
        "source": "campaign:spring",
        "dedupe_key": key,
    }
    values.update(changes)
    return Outgoing(**values)  # type: ignore[arg-type]
