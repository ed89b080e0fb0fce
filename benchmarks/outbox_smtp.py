"""Sending e-mail through the outbox against a bare smtplib loop, both to one loopback SMTP
server (aiosmtpd, in a process of its own): M marketing e-mails, each to its own fictional customer.

The baseline is the least a sender can do: one connection, ``send_message`` M times with the
same body (without the outbox's footer and extra headers, so a little shorter), nothing
recorded. The outbox claims a batch, checks the contact policy, issues each customer's
preference-centre and unsubscribe links, sends over one connection per batch and settles every
message in its own transaction (sent, counted for the caps) before the next is handed over.
Prints messages per second for each and the ratio (target: 0.5 or more).

    .venv/bin/python benchmarks/outbox_smtp.py [--messages 1000] [--database-url URL]
        [--not-durable]
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from tillit.audit.service import Actor
from tillit.config import load_settings
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.outbox import Outgoing, enqueue, send_due
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.base import utcnow
from tillit.vocabulary import MessageKind, OutboundChannel

ACTOR = Actor.system("benchmark")
BODY = "Hej {name},\n\nAlt i haven er 20 % billigere i denne uge.\n" + "Ukens tilbud. " * 40


class Sink:
    """Counts what it accepted, in memory shared with the benchmark's process."""

    def __init__(self, count: Synchronized[int]) -> None:
        self.count = count

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def _serve(port: int, count: Synchronized[int], ready: Event, stop: Event) -> None:
    """The SMTP server in a process of its own, as a real one is: it does not share the
    sender's interpreter lock."""
    controller = Controller(Sink(count), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def _load(url: str, count: int) -> list[int]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    defaults = Defaults(country="DK", language="da", time_zone="Europe/Copenhagen")
    ids = []
    with sessions() as session, session.begin():
        for n in range(count):
            customer = create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(
                    identities=[IdentityCreate(type="email", value=f"b{n}@example.com")]
                ),
            )
            record_consent(
                session=session,
                customer_id=customer.id,
                purpose_key="marketing",
                decision=ConsentDecision.granted,
                method=Method.import_,
                actor=ACTOR,
            )
            ids.append(customer.id)
    engine.dispose()
    return ids


def _bare(port: int, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as server:
        for n in range(count):
            # Built as the outbox builds its own (tillit.outbox.smtp_transport), less the
            # footer and the extra headers.
            message = MIMEText(BODY.format(name=f"b{n}"), "plain", "utf-8")
            message["From"] = "Butik <hej@example.com>"
            message["To"] = f"b{n}@example.com"
            message["Subject"] = Header("Forårsudsalg", "utf-8").encode()
            message["Message-ID"] = f"<bare.{n}@example.com>"
            server.send_message(message)
    return time.perf_counter() - started


@contextmanager
def _database(server: str, tmp: str) -> Iterator[str]:
    """A fresh SQLite file, or a database of its own on the PostgreSQL server, dropped after."""
    if not server:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"tillit_bench_{uuid.uuid4().hex[:10]}"
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server to make a throwaway database on; default: a fresh SQLite file",
    )
    parser.add_argument(
        "--not-durable",
        action="store_true",
        help="TILLIT_OUTBOX_DURABLE_RECORDS=false: PostgreSQL commits the records without "
        "waiting for the disk",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    count: Synchronized[int] = multiprocessing.Value("i", 0)  # type: ignore[assignment]
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port, count, ready, stop))
    server.start()
    ready.wait(30)
    try:
        with tempfile.TemporaryDirectory() as tmp, _database(args.database_url, tmp) as url:
            ids = _load(url, args.messages)
            settings = load_settings(
                database_url=url,
                data_dir=Path(tmp),
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_sender="Butik <hej@example.com>",
                company_caps="",
                outbox_durable_records=not args.not_durable,
            )
            engine = make_engine(url)
            sessions = make_session_factory(engine)
            now = utcnow()
            with sessions() as session, session.begin():
                enqueue(
                    session,
                    [
                        Outgoing(
                            customer_id=customer,
                            channel=OutboundChannel.email,
                            kind=MessageKind.marketing,
                            topic="offers",
                            purpose_key="marketing",
                            language="da",
                            subject="Forårsudsalg",
                            body=BODY.format(name=f"b{n}"),
                            not_before=now - timedelta(minutes=1),
                            source="benchmark",
                            dedupe_key=f"bench:{customer}",
                        )
                        for n, customer in enumerate(ids)
                    ],
                )
            # What the jobs process imports once, before its first round (pyarrow's pandas
            # bridge, through the contact policy's batch table): not a cost per message.
            import pandas  # noqa: F401

            cpu = time.process_time()
            bare = _bare(port, args.messages)
            bare_cpu = time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            report = send_due(sessions, settings, now=now)
            outbox = time.perf_counter() - started
            outbox_cpu = time.process_time() - cpu
            engine.dispose()
    finally:
        stop.set()
        server.join(30)
    assert report.sent == args.messages, report
    assert count.value == 2 * args.messages, count.value
    bare_rate, outbox_rate = args.messages / bare, args.messages / outbox
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    records = "durable records" if settings.outbox_durable_records else "records not durable"
    print(f"{args.messages} e-mails to aiosmtpd on 127.0.0.1 ({backend}, {records})")
    per = 1000 / args.messages  # ms per message
    print(
        f"bare smtplib loop, one connection  {bare_rate:8.0f} messages/s"
        f"  ({bare_cpu * per:.2f} ms CPU of the sender per message)"
    )
    print(
        f"outbox send_due                    {outbox_rate:8.0f} messages/s"
        f"  ({outbox_cpu * per:.2f} ms CPU of the sender per message)"
    )
    print(f"ratio outbox/bare {outbox_rate / bare_rate:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
