"""Other channels through the company's gateway: a real HTTP server on 127.0.0.1 that checks
the signature as a gateway would, and answers as a gateway might."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.outbox.conftest import NOW, outgoing
from tillit.contact.tables import DeliveryFailure, SendRecord
from tillit.outbox import OutboxMessage, enqueue, send_due
from tillit.outbox.gateway import signature
from tillit.vocabulary import MessageKind, OutboundChannel

SECRET = "gateway-secret-for-tests-only-0123456789"


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, object]]
    answers: dict[str, tuple[int, bytes]]  # by phone number
    probe: Callable[[], object] | None = None  # called on each request, kept with it
    delay = 0.0  # seconds before answering

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers["Tillit-Timestamp"]
        expected = signature(SECRET, stamp, body)
        if not hmac.compare_digest(expected, self.headers["Tillit-Signature"]) or (
            abs(time.time() - int(stamp)) > 300
        ):
            self._answer(401, b'{"error": "bad signature"}')
            return
        message = json.loads(body)
        message["idempotency_key"] = self.headers["Idempotency-Key"]
        if self.probe is not None:
            message["probed"] = self.probe()
            time.sleep(self.delay)
        self.received.append(message)
        status, answer = self.answers.get(message["to"]["value"], (202, b'{"id": "gw-1"}'))
        self._answer(status, answer)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[type[Gateway], str]]:
    handler = type("TestGateway", (Gateway,), {"received": [], "answers": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/messages"
    server.shutdown()
    server.server_close()


def _sms(customer: int, key: str):
    return outgoing(
        customer,
        key,
        channel=OutboundChannel.sms,
        kind=MessageKind.marketing,
        subject="",
        body="Forårsudsalg: 20 % på alt i haven.",
    )


def test_an_sms_is_posted_signed_and_counted(sessions, settings, gateway, make_customer):
    handler, url = gateway
    config = settings.model_copy(
        update={"gateway_url": url, "gateway_secret": SECRET, "company_caps": ""}
    )
    customer = make_customer(phone="+4520304050")
    with sessions() as session:
        enqueue(session, [_sms(customer, "s1")])
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert report.sent == 1, report
    [message] = handler.received
    assert message["channel"] == "sms" and message["to"] == {
        "type": "phone",
        "value": "+4520304050",
    }
    assert message["body"] == "Forårsudsalg: 20 % på alt i haven."
    assert message["customer_id"] == customer and message["language"] == "da"
    assert str(message["preferences_url"]).startswith(f"{config.base_url}/p/")
    assert str(message["unsubscribe_url"]).startswith(f"{config.base_url}/u/")
    assert message["idempotency_key"] == message["id"]
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.state, row.provider_id) == ("sent", "gw-1")
        assert session.scalars(select(SendRecord.channel)).all() == ["sms"]


def test_the_gateways_answers_decide_bounced_or_retried(sessions, settings, gateway, make_customer):
    handler, url = gateway
    config = settings.model_copy(
        update={"gateway_url": url, "gateway_secret": SECRET, "company_caps": ""}
    )
    gone = make_customer(phone="+4520304051")
    busy = make_customer(phone="+4520304052")
    handler.answers["+4520304051"] = (410, b'{"error": "number no longer in use"}')
    handler.answers["+4520304052"] = (503, b"")
    with sessions() as session:
        enqueue(session, [_sms(gone, "gone"), _sms(busy, "busy")])
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert (report.bounced, report.retried) == (1, 1), report
    with sessions() as session:
        rows = {r.dedupe_key: r for r in session.scalars(select(OutboxMessage))}
        failures = session.scalars(select(DeliveryFailure)).all()
    assert rows["gone"].state == "bounced" and "410" in (rows["gone"].last_error or "")
    assert rows["busy"].state == "queued" and "503" in (rows["busy"].last_error or "")
    assert [(f.customer_id, f.channel, f.permanent) for f in failures] == [(gone, "sms", True)]


def test_a_wrong_secret_stops_the_batch_and_blames_no_customer(
    sessions, settings, gateway, make_customer
):
    handler, url = gateway
    config = settings.model_copy(
        update={"gateway_url": url, "gateway_secret": "not-the-gateways-secret", "company_caps": ""}
    )
    customers = [make_customer(phone=f"+452030406{n}") for n in range(2)]
    with sessions() as session:
        enqueue(session, [_sms(customer, f"s{customer}") for customer in customers])
        session.commit()
    report = send_due(sessions, config, now=NOW)
    assert (report.sent, report.retried, report.returned) == (0, 1, 1), report
    assert handler.received == [] and "401" in report.errors[0]
    with sessions() as session:
        assert session.scalars(select(DeliveryFailure)).all() == []
        assert set(session.scalars(select(OutboxMessage.state))) == {"queued"}


def test_without_a_gateway_other_channels_wait(sessions, settings, make_customer):
    customer = make_customer(phone="+4520304054")
    with sessions() as session:
        enqueue(session, [_sms(customer, "s")])
        session.commit()
    assert send_due(sessions, settings.model_copy(update={"gateway_url": ""}), now=NOW).claimed == 0


def test_a_slow_batch_renews_its_lease(sessions, settings, gateway, make_customer):
    """A batch that takes longer than the lease keeps its claims: past a third of the lease
    the remaining messages' claim time moves on, so no second sender takes them over."""
    handler, url = gateway
    config = settings.model_copy(
        update={
            "gateway_url": url,
            "gateway_secret": SECRET,
            "company_caps": "",
            "outbox_lease_seconds": 3,
        }
    )
    customers = [make_customer(phone=f"+452030407{n}") for n in range(5)]
    with sessions() as session:
        enqueue(session, [_sms(customer, f"slow{n}") for n, customer in enumerate(customers)])
        session.commit()

    def last_claim() -> datetime | None:
        with sessions() as session:
            row = session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key == "slow4")
            ).one()
            return row.claimed_at

    handler.probe, handler.delay = staticmethod(last_claim), 0.6  # type: ignore[assignment]
    assert send_due(sessions, config, now=NOW).sent == 5
    claims = [message["probed"] for message in handler.received]
    assert claims[0] == NOW  # claimed with the batch
    assert claims[-1] is not None and claims[-1] >= NOW + timedelta(seconds=1)  # renewed
