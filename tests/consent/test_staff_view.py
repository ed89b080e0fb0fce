"""Staff open a customer's own preference centre from the customer page: the opening is
audited, the page says that staff are viewing, and what they change is recorded as theirs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Inbox, create_staff, sign_in
from tillit.app import create_app
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.consent.models import ConsentRecord
from tillit.consent.preferences import update_preferences
from tillit.contact.tables import SendRecord
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


@pytest.fixture
def mailing_client(settings, engine, smtp_server) -> Iterator[tuple[TestClient, Inbox]]:
    inbox, port = smtp_server
    app = create_app(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}))
    with TestClient(app, base_url="https://tillit.example.com") as client:
        yield client, inbox
    app.state.engine.dispose()


def test_staff_send_a_customer_their_link_by_e_mail(mailing_client, sessions, defaults):
    client, inbox = mailing_client
    customer_id = _customer(sessions, defaults)
    csrf = sign_in(client, create_staff(sessions, role="agent", email="agnes@example.com"))
    answer = client.post(f"/staff/customers/{customer_id}/send-link", data={"csrf_token": csrf})
    assert answer.status_code == 200 and "Their link is on its way by e-mail." in answer.text
    [raw] = inbox.messages
    mail = message_from_bytes(raw, policy=default)
    assert mail["To"] == "mette@example.com" and mail["Subject"] == "Dine valg hos os"
    link = re.search(r"https://tillit\.example\.com/p/\S+", mail.get_content())
    assert link, mail.get_content()
    opened = client.get(link[0].removeprefix("https://tillit.example.com"))
    assert opened.status_code == 200 and "Mette Prøvesen" in opened.text
    with sessions() as session:
        [sent] = session.scalars(
            select(SendRecord).where(SendRecord.customer_id == customer_id)
        ).all()
        actions = set(session.scalars(select(AuditEntry.action)))
    assert (sent.kind, sent.channel) == ("service", "email") and "link.sent" in actions


def test_no_link_goes_to_a_customer_who_turned_e_mail_off(mailing_client, sessions, defaults):
    client, inbox = mailing_client
    customer_id = _customer(sessions, defaults)
    with sessions() as session, session.begin():
        update_preferences(
            session=session,
            customer_id=customer_id,
            changes={"channels": {"email": False}},
            method="form",
            actor=Actor.system("tests"),
        )
    csrf = sign_in(client, create_staff(sessions, role="admin", email="ada2@example.com"))
    answer = client.post(f"/staff/customers/{customer_id}/send-link", data={"csrf_token": csrf})
    assert "Not sent: Channel turned off by the customer." in answer.text
    assert inbox.messages == []
    with sessions() as session:
        assert session.scalars(select(SendRecord)).all() == []


def test_a_refusing_mail_server_leaves_nothing_recorded(settings, engine, sessions, defaults):
    customer_id = _customer(sessions, defaults)
    app = create_app(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 9}))
    with TestClient(app, base_url="https://tillit.example.com") as client:
        csrf = sign_in(client, create_staff(sessions, role="admin", email="ada3@example.com"))
        answer = client.post(f"/staff/customers/{customer_id}/send-link", data={"csrf_token": csrf})
    app.state.engine.dispose()
    assert "The e-mail could not be sent" in answer.text
    with sessions() as session:
        assert session.scalars(select(SendRecord)).all() == []
        assert "link.sent" not in set(session.scalars(select(AuditEntry.action)))
