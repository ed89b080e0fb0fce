"""Fixtures for dialogue tests: fictional customers on example.com with research consent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tests")


@pytest.fixture
def make_customer(sessions: SessionFactory, defaults: Defaults) -> Callable[..., int]:
    def make(*, email: str, locale: str = "sv", research: bool = True) -> int:
        with sessions() as session:
            customer = create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(
                    name="Testperson",
                    locale=locale,
                    identities=[IdentityCreate(type="email", value=email)],
                ),
            )
            if research:
                record_consent(
                    session=session,
                    customer_id=customer.id,
                    purpose_key="research",
                    decision=ConsentDecision.granted,
                    method=Method.form,
                    actor=ACTOR,
                    channel="web",
                    evidence=Evidence(ip=None, user_agent=None),
                )
            session.commit()
            return customer.id

    return make
