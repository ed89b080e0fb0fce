"""Exactly once across a crash: `tillit outbox send` in a real subprocess, killed with SIGKILL
in the middle of a campaign, then started again; the SMTP server (aiosmtpd on 127.0.0.1) must
have accepted every planned message exactly once, by Message-ID.

The kill comes from the SMTP server itself, while the sender waits for the answer to one
message's DATA: that message is never accepted (a real server that dies, or a sender that
dies, before the 250 leaves it undelivered). Everything accepted before it must be ``sent`` in
the database already (each is settled the moment it was accepted), the rest of the dead
sender's batch is taken over after its lease, and nothing is lost or sent twice.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests.outbox.conftest import ACTOR, outgoing
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.contact.tables import SendRecord
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import create_customer
from tillit.outbox import OutboxMessage, enqueue, states_by_source
from tillit.storage.base import utcnow

PLANNED = 300
KILL_AT = 130  # the message whose DATA is answered by killing the sender
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class KillingInbox:
    """Accepts messages, counting each Message-ID; kills the sender at the KILL_AT-th."""

    def __init__(self) -> None:
        self.accepted: Counter[bytes] = Counter()
        self.sender: subprocess.Popen[bytes] | None = None
        self.killed = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.content)
        assert found, envelope.content[:300]
        if not self.killed.is_set() and sum(self.accepted.values()) == KILL_AT - 1:
            assert self.sender is not None
            os.kill(self.sender.pid, signal.SIGKILL)  # before this message is accepted
            self.killed.set()
            return "451 4.3.0 the sender went away"
        self.accepted[found.group(1)] += 1
        return "250 OK"


def _customers(sessions, defaults) -> list[int]:
    ids = []
    with sessions() as session:
        for n in range(PLANNED):
            customer = create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(
                    name=f"Person {n}",
                    locale="nl",
                    identities=[IdentityCreate(type="email", value=f"person{n}@example.com")],
                ),
            )
            record_consent(
                session=session,
                customer_id=customer.id,
                purpose_key="marketing",
                decision=ConsentDecision.granted,
                method=Method.form,
                actor=ACTOR,
            )
            ids.append(customer.id)
        session.commit()
    return ids


def _sender(settings, port: int, durable: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TILLIT_ENV": "test",
        "TILLIT_DATABASE_URL": settings.resolved_database_url,
        "TILLIT_DATA_DIR": str(settings.data_dir),
        "TILLIT_SECRET_KEY": settings.secret_key,
        "TILLIT_SMTP_HOST": "127.0.0.1",
        "TILLIT_SMTP_PORT": str(port),
        "TILLIT_SMTP_SENDER": "Winkel <hallo@example.com>",
        "TILLIT_OUTBOX_BATCH_SIZE": "50",
        "TILLIT_OUTBOX_LEASE_SECONDS": "2",
        "TILLIT_COMPANY_CAPS": "",
        "TILLIT_OUTBOX_DURABLE_RECORDS": durable,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tillit", "outbox", "send"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


# "false": on PostgreSQL the records commit without waiting for the disk; a killed sender
# must still send nothing twice (only a crash of the database server could forget records).
@pytest.mark.parametrize("durable", ["true", "false"])
def test_a_campaign_killed_midway_is_sent_exactly_once(sessions, settings, defaults, durable):
    customers = _customers(sessions, defaults)
    planned_at = utcnow() - timedelta(minutes=1)
    with sessions() as session:
        queued = enqueue(
            session,
            [
                outgoing(customer, f"spring:{customer}", not_before=planned_at, language="nl")
                for customer in customers
            ],
        )
        session.commit()
    assert queued == PLANNED
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = KillingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        inbox.sender = _sender(settings, port, durable)
        output, _ = inbox.sender.communicate(timeout=120)
        assert inbox.sender.returncode == -signal.SIGKILL, output.decode()
        assert inbox.killed.is_set()
        with sessions() as session:
            halfway = states_by_source(session, "campaign:spring")
        # Every accepted message was settled before the next was sent: none is left to resend.
        assert halfway["sent"] == KILL_AT - 1 == sum(inbox.accepted.values()), halfway
        assert halfway["sending"] > 0 and halfway["queued"] > 0, halfway

        time.sleep(2.5)  # the dead sender's lease runs out
        again = _sender(settings, port, durable)
        output, _ = again.communicate(timeout=120)
        assert again.returncode == 0, output.decode()
    finally:
        controller.stop()

    assert len(inbox.accepted) == PLANNED
    assert [mid for mid, times in inbox.accepted.items() if times != 1] == []
    with sessions() as session:
        assert states_by_source(session, "campaign:spring")["sent"] == PLANNED
        assert session.scalar(select(func.count()).select_from(SendRecord)) == PLANNED
        ids = set(session.scalars(select(OutboxMessage.provider_id)))
    assert ids == {mid.decode() for mid in inbox.accepted}
