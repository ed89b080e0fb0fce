"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1): queue once, send once, with
the headers a mailbox provider needs, counted for the caps; retries, bounces and the policy."""

from __future__ import annotations

import email
import threading
from datetime import timedelta
from email.policy import default

from sqlalchemy import func, select

from tests.outbox.conftest import ACTOR, NOW, outgoing
from tillit.consent.models import Method
from tillit.consent.preferences import update_preferences
from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.outbox import OutboxMessage, enqueue, send_due, states_by_source
from tillit.storage import make_engine, make_session_factory


def smtp_settings(settings, port, **changes):
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_sender": "Butik <hej@example.com>",
            "base_url": "https://shop.example.com",
            **changes,
        }
    )


def test_enqueue_is_idempotent_on_the_dedupe_key(sessions, make_customer):
    customer = make_customer(email="ida@example.com")
    with sessions() as session:
        assert enqueue(session, [outgoing(customer, "a"), outgoing(customer, "b")]) == 2
        assert enqueue(session, [outgoing(customer, "a"), outgoing(customer, "c")]) == 1
        session.commit()
    with sessions() as session:
        assert enqueue(session, [outgoing(customer, "c")]) == 0
        session.commit()
        counts = states_by_source(session, "campaign:spring")
    assert (
        counts["queued"] == 3
        and counts["sent"] == 0
        and set(counts)
        >= {
            "queued",
            "sending",
            "sent",
            "failed",
            "bounced",
        }
    )


def test_a_due_message_is_sent_once_with_unsubscribe_headers_and_counted(
    sessions, settings, smtp_server, make_customer
):
    inbox, port = smtp_server
    config = smtp_settings(settings, port)
    customer = make_customer(email="ida@example.com")
    later = make_customer(email="bo@example.com")
    with sessions() as session:
        enqueue(
            session,
            [
                outgoing(customer, "now"),
                outgoing(later, "later", not_before=NOW + timedelta(hours=1)),
            ],
        )
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert (report.claimed, report.sent) == (1, 1), report
    assert send_due(sessions, config, now=NOW).claimed == 0  # sent is final
    assert len(inbox.messages) == 1
    message = email.message_from_bytes(inbox.messages[0], policy=default)
    assert message["To"] == "ida@example.com"
    assert message["Subject"] == "Forårsudsalg"
    assert message["Message-ID"].startswith("<outbox.") and message["Message-ID"].endswith(
        "@example.com>"
    )
    assert message["List-Unsubscribe"].strip().startswith("<https://shop.example.com/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_content()
    assert "20 % billigere" in body
    assert "Hvorfor fik jeg denne?" in body  # Danish: the customer's language
    assert "https://shop.example.com/p/" in body  # their own preference centre
    with sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == "now")).one()
        assert row.state == "sent" and row.provider_id == message["Message-ID"]
        assert row.sent_at == NOW and row.attempts == 1
        sends = session.scalars(select(SendRecord).where(SendRecord.customer_id == customer)).all()
        assert [(s.channel, s.kind, s.topic) for s in sends] == [("email", "marketing", "offers")]
    report = send_due(sessions, config, now=NOW + timedelta(hours=1))
    assert report.sent == 1 and len(inbox.messages) == 2


def test_the_one_click_unsubscribe_in_the_header_works(
    sessions, settings, smtp_server, make_customer, client
):
    inbox, port = smtp_server
    config = smtp_settings(settings, port)
    customer = make_customer(email="ida@example.com")
    with sessions() as session:
        enqueue(session, [outgoing(customer, "one"), outgoing(customer, "two", topic=None)])
        session.commit()
    send_due(sessions, config, now=NOW)
    headers = [
        email.message_from_bytes(raw, policy=default)["List-Unsubscribe"] for raw in inbox.messages
    ]
    base = "https://shop.example.com"
    paths = [header.strip().strip("<>").replace(base, "") for header in headers]
    # A topic's message unsubscribes from the topic; one without a topic from the purpose.
    response = client.post(paths[1], data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with sessions() as session:
        enqueue(session, [outgoing(customer, "three", topic=None)])
        session.commit()
    report = send_due(sessions, config, now=NOW + timedelta(minutes=1))
    assert report.held == 1 and report.sent == 0  # withdrawn since it was planned
    with sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == "three")
        ).one()
        assert row.state == "held" and row.last_error


def test_the_planners_decision_is_marked_sent(sessions, settings, smtp_server, make_customer):
    _, port = smtp_server
    customer = make_customer(email="ida@example.com")
    with sessions() as session:
        decision = DecisionRecord(
            customer_id=customer,
            purpose_key="marketing",
            kind="marketing",
            channel="email",
            topic="offers",
            outcome="allowed",
            reasons=[],
            decided_at=NOW,
        )
        session.add(decision)
        session.flush()
        enqueue(session, [outgoing(customer, "d", decision_id=decision.id)])
        session.commit()
    assert send_due(sessions, smtp_settings(settings, port), now=NOW).sent == 1
    with sessions() as session:
        assert session.get_one(DecisionRecord, decision.id).sent is True
        assert session.scalar(select(func.count()).select_from(SendRecord)) == 1


def test_quiet_hours_at_the_moment_of_sending_defer_without_using_an_attempt(
    sessions, settings, smtp_server, make_customer
):
    inbox, port = smtp_server
    config = smtp_settings(settings, port, company_caps="")
    customer = make_customer(email="ida@example.com")
    with sessions() as session:
        update_preferences(
            session=session,
            customer_id=customer,
            changes={"quiet_hours": {"start": "21:00", "end": "08:00"}},
            method=Method.form,
            actor=ACTOR,
        )
        enqueue(session, [outgoing(customer, "q")])
        session.commit()
    late = NOW.replace(hour=21)  # 22:00 in Copenhagen
    report = send_due(sessions, config, now=late)
    assert (report.deferred, report.sent) == (1, 0) and inbox.messages == []
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    morning = (late + timedelta(days=1)).replace(hour=7)  # 08:00 in Copenhagen
    assert (row.state, row.attempts, row.next_attempt_at) == ("queued", 0, morning)
    assert send_due(sessions, config, now=morning).sent == 1


def test_two_senders_at_once_send_each_message_once(sessions, settings, smtp_server, make_customer):
    inbox, port = smtp_server
    config = smtp_settings(settings, port, company_caps="", outbox_batch_size=5)
    customers = [make_customer(email=f"p{n}@example.com") for n in range(30)]
    with sessions() as session:
        enqueue(session, [outgoing(c, f"c{c}") for c in customers])
        session.commit()
    reports = []
    # Each sender with an engine of its own, as two processes would have, disposed after.
    engines = [make_engine(config.resolved_database_url) for _ in range(2)]
    senders = [
        threading.Thread(
            target=lambda own=own: reports.append(
                send_due(make_session_factory(own), config, now=NOW)
            )
        )
        for own in engines
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(60)
    for own in engines:
        own.dispose()
    assert sum(report.sent for report in reports) == 30, reports
    ids = [email.message_from_bytes(raw, policy=default)["Message-ID"] for raw in inbox.messages]
    assert len(ids) == len(set(ids)) == 30


def test_a_batch_prepared_while_the_last_is_sent_sees_that_batchs_sends(
    sessions, settings, smtp_server, make_customer
):
    """The next batch is prepared while one is on the wire. A customer's second message, in
    the next batch, must still meet the cap that the first one (being sent) fills."""
    inbox, port = smtp_server
    config = smtp_settings(settings, port, company_caps="email:1/week", outbox_batch_size=1)
    customer = make_customer(email="ida@example.com")
    others = [make_customer(email=f"p{n}@example.com") for n in range(3)]
    with sessions() as session:
        enqueue(
            session,
            [
                outgoing(customer, "first"),
                outgoing(customer, "second", topic="news"),
                *(outgoing(other, f"o{other}") for other in others),
            ],
        )
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert (report.sent, report.deferred, report.held) == (4, 1, 0), report
    assert sorted(raw.count(b"ida@example.com") > 0 for raw in inbox.messages) == [
        False,
        False,
        False,
        True,
    ]
    with sessions() as session:
        second = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == "second")
        ).one()
    assert (second.state, second.attempts) == ("queued", 0)
