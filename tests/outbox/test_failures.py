"""What goes wrong, against real servers on 127.0.0.1: a recipient refused for good (a
bounce), a server that says "later" (retries with back-off, then failed), a server that is
not there; and how bounces and failures make a contact point unreachable for the policy."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.outbox.conftest import NOW, outgoing
from tillit.contact.reasons import CHANNEL_UNREACHABLE
from tillit.contact.service import decide_for
from tillit.contact.tables import DeliveryFailure
from tillit.outbox import OutboxMessage, enqueue, send_due


class Moody:
    """Refuses bounce@ for good at RCPT; answers 451 to the DATA of later@."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.busy = True  # later@ is answered 451 while busy

    async def handle_RCPT(
        self, server: object, session: object, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("bounce@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        if self.busy and envelope.rcpt_tos[0].startswith("later@"):
            return "451 4.3.0 mailbox busy, try later"
        self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def moody() -> Iterator[tuple[Moody, int]]:
    handler, port = Moody(), _port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _config(settings, port, **changes):
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "company_caps": "", **changes}
    )


def _row(sessions, key: str) -> OutboxMessage:
    with sessions() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


def _email_allowed(sessions, settings, customer: int, at) -> tuple[str, str | None]:
    with sessions() as session:
        decided = decide_for(
            session=session,
            customer_id=customer,
            purpose="marketing",
            kind="marketing",
            channel="email",
            topic=None,
            settings=settings,
            at=at,
        )
    return decided.decision.outcome.value, decided.decision.reason


def test_a_bounce_is_final_and_makes_the_address_unreachable(
    sessions, settings, moody, make_customer
):
    handler, port = moody
    config = _config(settings, port)
    bouncing = make_customer(email="bounce@example.com")
    fine = make_customer(email="fine@example.com")
    with sessions() as session:
        enqueue(session, [outgoing(bouncing, "b1"), outgoing(fine, "f1")])
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert (report.bounced, report.sent) == (1, 1), report
    assert handler.accepted == ["fine@example.com"]  # the connection went on after the 550
    row = _row(sessions, "b1")
    assert row.state == "bounced" and "550" in (row.last_error or "")
    assert send_due(sessions, config, now=NOW + timedelta(days=1)).claimed == 0  # final
    assert _email_allowed(sessions, config, bouncing, NOW) == ("denied", CHANNEL_UNREACHABLE)
    assert _email_allowed(sessions, config, fine, NOW) == ("allowed", None)
    with sessions() as session:
        enqueue(session, [outgoing(bouncing, "b2")])
        session.commit()
    report = send_due(sessions, config, now=NOW + timedelta(minutes=1))
    assert report.held == 1 and _row(sessions, "b2").last_error == CHANNEL_UNREACHABLE


def test_a_temporary_failure_is_retried_with_back_off_then_failed(
    sessions, settings, moody, make_customer
):
    handler, port = moody
    config = _config(settings, port, outbox_max_attempts=3, outbox_retry_seconds=60)
    customer = make_customer(email="later@example.com")
    with sessions() as session:
        enqueue(session, [outgoing(customer, "l1")])
        session.commit()
    at = NOW
    for attempt, wait in ((1, 60), (2, 120)):
        assert send_due(sessions, config, now=at).retried == 1
        row = _row(sessions, "l1")
        assert (row.state, row.attempts) == ("queued", attempt)
        assert row.next_attempt_at == at + timedelta(seconds=wait) and "451" in row.last_error
        # Not before its time.
        assert send_due(sessions, config, now=at + timedelta(seconds=wait - 1)).claimed == 0
        at += timedelta(seconds=wait)
    assert send_due(sessions, config, now=at).failed == 1
    row = _row(sessions, "l1")
    assert (row.state, row.attempts) == ("failed", 3) and "451" in row.last_error
    with sessions() as session:
        failures = session.scalars(select(DeliveryFailure)).all()
    assert [(f.customer_id, f.permanent) for f in failures] == [(customer, False)]
    assert handler.accepted == []


def test_three_failed_messages_make_a_point_unreachable_and_a_delivery_clears_them(
    sessions, settings, moody, make_customer
):
    _, port = moody
    config = _config(settings, port, outbox_max_attempts=1)
    customer = make_customer(email="later@example.com")
    for n in range(2):
        with sessions() as session:
            enqueue(session, [outgoing(customer, f"m{n}")])
            session.commit()
        assert send_due(sessions, config, now=NOW + timedelta(minutes=n)).failed == 1
    assert _email_allowed(sessions, config, customer, NOW)[0] == "allowed"  # two are not three
    with sessions() as session:
        enqueue(session, [outgoing(customer, "m2")])
        session.commit()
    assert send_due(sessions, config, now=NOW + timedelta(minutes=5)).failed == 1
    assert _email_allowed(sessions, config, customer, NOW) == ("denied", CHANNEL_UNREACHABLE)


def test_a_delivery_forgives_earlier_failures(sessions, settings, moody, make_customer):
    handler, port = moody
    config = _config(settings, port, outbox_max_attempts=1)
    customer = make_customer(email="later@example.com")
    with sessions() as session:
        enqueue(session, [outgoing(customer, "x")])
        session.commit()
    assert send_due(sessions, config, now=NOW).failed == 1
    handler.busy = False  # the mailbox is fine again: a message goes through
    with sessions() as session:
        enqueue(session, [outgoing(customer, "y")])
        session.commit()
    assert send_due(sessions, config, now=NOW + timedelta(minutes=1)).sent == 1
    assert handler.accepted == ["later@example.com"]
    with sessions() as session:
        assert session.scalars(select(DeliveryFailure)).all() == []


def test_a_server_that_is_not_there_gives_the_batch_back(sessions, settings, make_customer):
    config = _config(settings, _port(), outbox_retry_seconds=30)  # nothing listens there
    customers = [make_customer(email=f"p{n}@example.com") for n in range(3)]
    with sessions() as session:
        enqueue(session, [outgoing(c, f"d{c}") for c in customers])
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert (report.claimed, report.retried, report.returned) == (3, 1, 2), report
    assert report.errors and "did not answer" in report.errors[0]
    rows = [_row(sessions, f"d{c}") for c in customers]
    assert [(r.state, r.attempts) for r in rows] == [("queued", 1), ("queued", 0), ("queued", 0)]
    assert rows[0].next_attempt_at == NOW + timedelta(seconds=30)
    assert rows[1].next_attempt_at == NOW  # never tried: due at once


def test_a_server_that_is_not_there_gives_back_the_batch_prepared_meanwhile(
    sessions, settings, make_customer
):
    config = _config(settings, _port(), outbox_retry_seconds=30, outbox_batch_size=1)
    customers = [make_customer(email=f"p{n}@example.com") for n in range(3)]
    with sessions() as session:
        enqueue(session, [outgoing(c, f"d{c}") for c in customers])
        session.commit()
    report = send_due(sessions, config, now=NOW)
    # The first batch tried and failed; the second was claimed and prepared while the first
    # was being sent, and is given back untried; the third was never claimed.
    assert (report.claimed, report.retried, report.returned, report.sent) == (2, 1, 1, 0), report
    rows = [_row(sessions, f"d{c}") for c in customers]
    assert [(r.state, r.attempts, r.claim_token) for r in rows] == [
        ("queued", 1, None),
        ("queued", 0, None),
        ("queued", 0, None),
    ]
    assert rows[1].next_attempt_at < NOW + timedelta(seconds=30)  # due again at once
