"""An invitation through a real SMTP server (aiosmtpd on 127.0.0.1): headers, language, link."""

from __future__ import annotations

import email
import time
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server import running_server
from tillit.app import create_app
from tillit.background import run_jobs_forever
from tillit.dialogues import delivery, mail, scheduling
from tillit.dialogues.jobs import run_dialogue_jobs


def test_invitation_is_localised_with_headers_and_a_working_link(
    smtp_server, sessions, settings, engine, make_customer
):
    inbox, port = smtp_server
    smtp = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_sender": "Butik <hej@example.com>",
        }
    )
    customer = make_customer(email="astrid@example.com", locale="sv")
    at = datetime.now(UTC).replace(hour=10) - timedelta(days=3)
    with sessions() as session:
        scheduling.on_event(session, customer, "Order Completed", at)
        counts = delivery.deliver_due(
            session=session,
            settings=smtp,
            now=at + timedelta(hours=49),
            send=mail.smtp_sender(session=session, settings=smtp),
        )
        session.commit()
    assert counts["sent"] == 1, counts
    message = email.message_from_bytes(inbox.messages[0], policy=default)
    assert message["To"] == "astrid@example.com"
    assert message["From"] == "Butik <hej@example.com>"
    assert message["Subject"] == "En kort fråga från oss"
    assert message["Message-ID"].endswith("@example.com>") and message["Date"]
    assert message["List-Unsubscribe"].startswith("<http://testserver/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_content()
    assert "Hur nöjd är du med din senaste beställning?" in body
    link = next(line for line in body.splitlines() if "/d/" in line).strip()
    app = create_app(smtp)
    with TestClient(app) as client:
        page = client.get(link.replace("http://testserver", ""))
        assert page.status_code == 200 and 'lang="sv"' in page.text
        assert "Hur nöjd är du" in page.text
        answered = client.post(
            link.replace("http://testserver", ""),
            data={"score": "5", "lang": "sv"},
            follow_redirects=False,
        )
        assert answered.status_code == 303
        again = client.get(link.replace("http://testserver", ""))
        assert "Tack för ditt svar" in again.text  # single use: now a thank-you page
    app.state.engine.dispose()


def test_a_mail_server_failure_keeps_what_was_sent_and_retries_the_rest(
    sessions, settings, make_customer
):
    from sqlalchemy import select

    from tillit.dialogues.models import Ask

    at = datetime.now(UTC).replace(hour=10) - timedelta(days=3)
    first = make_customer(email="first.retry@example.com", locale="sv")
    second = make_customer(email="second.retry@example.com", locale="sv")
    delivered: list[int] = []

    def flaky(ask, token):
        if ask.customer_id == second:
            raise ConnectionRefusedError("mail server down")
        delivered.append(ask.customer_id)

    with sessions() as session:
        for customer in (first, second):
            scheduling.on_event(session, customer, "Order Completed", at)
        session.commit()
        counts = delivery.deliver_due(
            session=session, settings=settings, now=at + timedelta(hours=49), send=flaky
        )
    assert (counts["sent"], counts["failed"]) == (1, 1) and delivered == [first]
    with sessions() as session:
        status = dict(session.execute(select(Ask.customer_id, Ask.status)).all())
    assert status == {first: "pending", second: "scheduled"}  # sent stays sent; retry later


def _jobs_processes(data_dir: Path) -> list[int]:
    """Ids of running `tillit jobs run` processes of the server using ``data_dir`` (from
    /proc: no extra dependency; other servers on the machine, a parallel run's, not counted)."""
    found = []
    mark = f"TILLIT_DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        try:
            parts = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"jobs" in parts and b"run" in parts and b"--parent" in parts and mark in environment:
            found.append(int(entry.name))
    return found


def test_the_server_sends_due_invitations_by_itself(
    smtp_server, sessions, settings, make_customer, tmp_path
):
    inbox, port = smtp_server
    customer = make_customer(email="background@example.com", locale="sv")
    with sessions() as session:
        scheduling.on_event(
            session, customer, "Order Completed", datetime.now(UTC) - timedelta(days=3)
        )
        session.commit()
    env = {
        "TILLIT_DATABASE_URL": settings.resolved_database_url,
        "TILLIT_DATA_DIR": str(tmp_path),
        "TILLIT_ENV": "development",
        "TILLIT_JOBS_INTERVAL_SECONDS": "1",
        "TILLIT_SMTP_HOST": "127.0.0.1",
        "TILLIT_SMTP_PORT": str(port),
        "TILLIT_SECRET_KEY": settings.secret_key,
    }
    with running_server(env=env, log_path=tmp_path / "server.log"):
        assert len(_jobs_processes(tmp_path)) == 1  # one jobs process beside the web worker
        # The first jobs round also writes the lake's snapshots: on a busy machine, 20 s.
        deadline = time.monotonic() + 90
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.2)
    assert len(inbox.messages) == 1  # sent by the server's jobs process, with no command run
    deadline = time.monotonic() + 60  # it finishes the round it is in (seconds when busy)
    while _jobs_processes(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _jobs_processes(tmp_path) == []  # stopped with the server
    background = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "env": "development"}
    )
    again = run_dialogue_jobs(sessions=sessions, settings=background)
    assert again["sent"] == 0 and len(inbox.messages) == 1  # nothing is sent twice


def test_the_jobs_loop_survives_a_failing_round_and_stops_with_its_parent():
    calls = []

    def flaky() -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("SMTP down")
        return {"sent": 1}

    run_jobs_forever(flaky, interval=0.01, rounds=3)
    assert len(calls) == 3  # the failure was logged and the loop went on
    started = time.monotonic()
    run_jobs_forever(flaky, interval=60, parent=-1)  # not our parent: returns at once
    assert time.monotonic() - started < 5 and len(calls) == 3
