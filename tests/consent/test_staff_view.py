"""Staff open a customer's own preference centre from the customer page: the opening is
audited, the page says that staff are viewing, and what they change is recorded as theirs."""

from __future__ import annotations

import re

from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.consent.models import ConsentRecord
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import create_customer


def _customer(sessions, defaults) -> int:
    with sessions() as session, session.begin():
        return create_customer(
            session=session,
            defaults=defaults,
            actor=Actor.system("tests"),
            data=CustomerCreate(
                name="Mette Prøvesen",
                locale="da",
                identities=[IdentityCreate(type="email", value="mette@example.com")],
            ),
        ).id


def test_staff_open_the_centre_see_the_banner_and_their_changes_are_theirs(
    client, staff_as, sessions, defaults
):
    customer_id = _customer(sessions, defaults)
    agent, csrf = staff_as("agent")
    page = client.get(f"/staff/customers/{customer_id}")
    assert "Open their preference centre" in page.text
    opened = client.post(
        f"/staff/customers/{customer_id}/preference-centre",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"].startswith("/p/")
    centre = client.get(opened.headers["location"])
    assert centre.status_code == 200
    assert "Staff view: you, " in centre.text and "Mette Prøvesen" in centre.text
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', centre.text)
    assert form_token
    changed = client.post(
        f"{opened.headers['location']}/consent",
        data={"csrf_token": form_token[1], "purpose": "research", "decision": "grant"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    with sessions() as session:
        actions = {
            (entry.action, entry.actor_type, entry.actor_id)
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.entity_id == str(customer_id))
            )
        }
        record = session.scalars(
            select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
        ).one()
    assert ("customer.preference_centre_opened", "staff", str(agent.id)) in actions
    assert record.decision == "granted"
    assert any(a == "consent.record" and t == "staff" for a, t, _ in actions), actions


def test_the_customer_sees_no_banner(client, sessions, defaults, settings):
    from tillit.consent.links import create_link

    customer_id = _customer(sessions, defaults)
    with sessions() as session, session.begin():
        token = create_link(
            session=session,
            customer_id=customer_id,
            secret_key=settings.secret_key,
            actor=Actor.system("tests"),
        ).token
    page = client.get(f"/p/{token}")
    assert page.status_code == 200 and "Staff view" not in page.text
