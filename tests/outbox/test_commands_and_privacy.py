"""The outbox from the command line and the jobs process, and in data requests (export and
erasure)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from tests.outbox.conftest import ACTOR, NOW, outgoing
from tillit.cli.context import console
from tillit.cli.main import app as cli
from tillit.contact.tables import DeliveryFailure
from tillit.identity.rules import load_rules
from tillit.jobs import rounds
from tillit.jobs.rounds import JobContext, run_rounds
from tillit.outbox import OutboxMessage, enqueue
from tillit.privacy.erasure import erase_customer
from tillit.privacy.export import export_customer
from tillit.storage.base import utcnow


def test_the_commands_send_and_count(sessions, settings, smtp_server, make_customer, monkeypatch):
    inbox, port = smtp_server
    customer = make_customer(email="ida@example.com")
    with sessions() as session:
        enqueue(
            session,
            [
                outgoing(customer, "now", not_before=utcnow() - timedelta(minutes=1)),
                outgoing(customer, "later", not_before=utcnow() + timedelta(days=1)),
            ],
        )
        session.commit()
    for name, value in {
        "TILLIT_DATABASE_URL": settings.resolved_database_url,
        "TILLIT_DATA_DIR": str(settings.data_dir),
        "TILLIT_SMTP_PORT": str(port),
        "TILLIT_COMPANY_CAPS": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(console, "width", 200)
    sent = CliRunner().invoke(cli, ["outbox", "send"], catch_exceptions=False)
    assert sent.exit_code == 0, sent.output
    assert "claimed 1, sent 1," in sent.output and len(inbox.messages) == 1
    status = CliRunner().invoke(cli, ["outbox", "status"], catch_exceptions=False)
    assert status.exit_code == 0, status.output
    line = next(line for line in status.output.splitlines() if "campaign:spring" in line)
    cells = [cell.strip() for cell in line.split("│") if cell.strip()]
    assert cells[:4] == ["campaign:spring", "1", "0", "1"]  # queued, sending, sent


def test_the_jobs_process_sends_due_messages(
    sessions, settings, defaults, smtp_server, make_customer, tmp_path
):
    inbox, port = smtp_server
    customer = make_customer(email="ida@example.com")
    with sessions() as session:
        enqueue(session, [outgoing(customer, "now", not_before=utcnow() - timedelta(minutes=1))])
        session.commit()
    own = settings.model_copy(update={"data_dir": tmp_path, "smtp_port": port, "company_caps": ""})
    jobs = JobContext(sessions=sessions, settings=own, defaults=defaults, rules=load_rules())
    outbox_round = tuple((name, job) for name, job in rounds.ROUNDS if name == "outbox")
    assert outbox_round, "the outbox is one of the jobs process's rounds"
    counts = run_rounds(jobs, outbox_round)
    assert counts["outbox_sent"] == 1 and counts["failed_rounds"] == 0
    assert len(inbox.messages) == 1


def test_export_shows_and_erasure_removes_the_messages(sessions, settings, make_customer):
    customer = make_customer(email="ida@example.com")
    other = make_customer(email="bo@example.com")
    with sessions() as session:
        enqueue(session, [outgoing(customer, "a"), outgoing(other, "b")])
        session.add(
            DeliveryFailure(
                customer_id=customer,
                channel="email",
                point_hash="0" * 64,
                permanent=True,
                reason="550 no such mailbox",
                failed_at=NOW,
            )
        )
        session.commit()
        exported = export_customer(session=session, customer_id=customer)
    outbox = exported["outbox"]
    assert [m["subject"] for m in outbox["messages"]] == ["Forårsudsalg"]
    assert outbox["undelivered"][0]["bounced"] is True
    with sessions() as session:
        erase_customer(
            session=session, customer_id=customer, secret_key=settings.secret_key, actor=ACTOR
        )
        session.commit()
        assert session.scalars(select(OutboxMessage.customer_id)).all() == [other]
        assert session.scalars(select(DeliveryFailure)).all() == []
