"""The issue's scenario end to end, on SQLite and PostgreSQL with a real SMTP server: a Dutch
customer who chose at most one e-mail a week and no SMS is planned into two campaigns in one
week. The first reaches her mailbox once; the second is held for her own limit; her preference
centre shows both, in Dutch, each with why."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.policy import default

from tillit.campaigns import delivery, service
from tillit.campaigns.definitions import parse_definition
from tillit.consent.links import create_link

from .helpers import ACTOR, customer, definition, segment, views

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def smtp_settings(settings, port):
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_sender": "Butik <hej@example.com>",
            "base_url": "https://shop.example.com",
        }
    )


def _campaign(sessions, key: str, name: str) -> None:
    with sessions() as session, session.begin():
        spec = definition(key=key, name=name, schedule={"type": "once"})
        service.create_campaign(session=session, definition=parse_definition(spec), actor=ACTOR)
        service.approve_campaign(session=session, key=key, actor=ACTOR)


def test_one_sent_one_held_and_she_sees_both_with_why(
    sessions, defaults, settings, smtp_server, client
):
    inbox, port = smtp_server
    config = smtp_settings(settings, port)
    nina = customer(
        sessions,
        defaults,
        name="Nina de Vries",
        locale="nl-NL",
        zone="Europe/Amsterdam",
        phone=True,
        preferences={
            "topics": ["offers"],
            "channels": {"sms": False},
            "caps": {"email": {"count": 1, "period": "week"}},
            "language": "nl",
        },
    )
    views(sessions, nina, "outdoor", 3, MONDAY)
    segment(sessions, [nina])
    _campaign(sessions, "winter-sale", "Winter sale")
    _campaign(sessions, "new-year", "New year")

    with sessions() as session, session.begin():
        first = service.plan_campaign(
            session=session, settings=config, key="winter-sale", actor=ACTOR, now=MONDAY
        )
    assert first.scheduled == 1 and first.held == {}
    summary = delivery.send_campaign(sessions, config, "winter-sale", now=MONDAY)
    assert "sent 1" in summary
    assert len(inbox.messages) == 1
    mail = email.message_from_bytes(inbox.messages[0], policy=default)
    assert mail["Subject"] == "Hallo Nina, nieuwe hardloopschoenen"
    assert mail["To"].addresses[0].addr_spec.endswith("@example.com")
    # Sending again sends nothing: the outbox sends each message once.
    delivery.send_campaign(sessions, config, "winter-sale", now=MONDAY + timedelta(hours=1))
    assert len(inbox.messages) == 1

    wednesday = MONDAY + timedelta(days=2)
    with sessions() as session, session.begin():
        second = service.plan_campaign(
            session=session, settings=config, key="new-year", actor=ACTOR, now=wednesday
        )
    assert second.scheduled == 0 and second.held == {"customer_cap": 1}
    delivery.send_campaign(sessions, config, "new-year", now=wednesday)
    assert len(inbox.messages) == 1

    with sessions() as session, session.begin():
        funnel = service.funnel(
            session=session, campaign=service.get_campaign(session=session, key="winter-sale")
        )
        token = create_link(
            session=session, customer_id=nina, secret_key=settings.secret_key, actor=ACTOR
        ).token
    assert funnel.steps["sent"] == 1 and funnel.steps["delivered"] == 1

    page = client.get(f"/p/{token}")
    assert page.status_code == 200
    section = page.text.split('id="campaign-messages"')[1].split("</section>")[0]
    assert section.count("Hallo Nina, nieuwe hardloopschoenen") == 2
    assert section.count("<li>") == 2
    assert "Verstuurd" in section and "Tegengehouden" in section
    assert "Relevant voor jou omdat je koos voor" in section
    assert "3 keer in de afgelopen 7 dagen bekeek hardloopschoenen" in section
    assert "Je zou meer berichten hebben gekregen dan je had gevraagd." in section
