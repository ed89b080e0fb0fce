"""Erasure after the real life of a customer: tracked and imported events, consent given in
the preference centre, dialogue invitations held and sent by the jobs process through the
contact policy (e-mail through a real SMTP server on loopback), an answer that opened a case,
feedback, a duplicate profile merged in from a match suggestion, the Parquet lake. Then the
customer is erased, by staff (``tillit consent erase``) or by themselves (the preference
centre's "delete me"), and every table and every file under the data directory is searched
for them."""

from __future__ import annotations

import email
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import Inbox
from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.cli.main import app as cli
from tillit.config import Settings
from tillit.consent.links import create_link
from tillit.consent.models import Suppression
from tillit.contact.tables import DecisionRecord
from tillit.customers.models import Customer, CustomerStatus, Identity
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.dialogues import cases
from tillit.dialogues.jobs import run_dialogue_jobs
from tillit.dialogues.models import Ask, AskStatus, Case
from tillit.events.import_jobs import run_queued
from tillit.events.lake import export_events
from tillit.events.models import Event
from tillit.events.sources import create_source
from tillit.feedback.service import FeedbackIn, ingest_feedback
from tillit.identity import suggestions
from tillit.identity.models import MatchSuggestion
from tillit.identity.rules import load_rules
from tillit.privacy import areas, erasure
from tillit.privacy.models import ErasureProof
from tillit.staff import service as staff
from tillit.storage.models import metadata
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

ACTOR = Actor.system("tests")
EMAIL = "anna.liv@example.com"
PHONE = "+4520987654"
NAME = "Anna Livsdottir"
TRAIT = "Loves the green rain boots"
USER_ID = "u-anna-liv"
ANONYMOUS_ID = "a-anna-liv"
OTHER_EMAIL = "anna.l@example.net"  # the duplicate profile's, merged in
TRACKED = "Min ordre kom i stykker"
ANSWER = "Pakken var helt mast og ingen svarede"
NOTE = "Ringede til Anna om den maste pakke"
FEEDBACK = "Kundeservice lovede at ringe tilbage men gjorde det aldrig"
NEEDLES = (EMAIL, PHONE, NAME, TRAIT, USER_ID, ANONYMOUS_ID, OTHER_EMAIL)
NEEDLES += (TRACKED, ANSWER, NOTE, FEEDBACK)
# A morning a few days back: outside quiet hours in Copenhagen, and the rounds that run
# after it still lie in the past.
DAY = (datetime.now(UTC) - timedelta(days=4)).replace(hour=9, minute=0, second=0, microsecond=0)


@dataclass
class Life:
    customer_id: int
    bystander_id: int
    link_token: str
    csrf: str
    client: TestClient
    settings: Settings


@pytest.fixture
def life_settings(settings: Settings, tmp_path: Path, smtp_server: tuple[Inbox, int]) -> Settings:
    """The shared settings with a data directory of this test's own (every file in it is
    searched) and e-mail through the loopback SMTP server."""
    return settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server[1],
            "smtp_sender": "Butik <hej@example.com>",
        }
    )


@pytest.fixture
def life(
    life_settings: Settings,
    engine: object,
    sessions: SessionFactory,
    smtp_server: tuple[Inbox, int],
) -> Iterator[Life]:
    app = create_app(life_settings)
    with TestClient(app) as client:
        yield live(client, life_settings, sessions, smtp_server[0])
    app.state.engine.dispose()


def live(client: TestClient, settings: Settings, sessions: SessionFactory, inbox: Inbox) -> Life:
    defaults = Defaults(country="DK", language="da", time_zone="Europe/Copenhagen")
    with sessions() as session, session.begin():
        anna = _customer(session, defaults, NAME, EMAIL, PHONE, traits={"note": TRAIT})
        bystander = _customer(session, defaults, "Bo Bystander", "bo.bystander@example.org")
        link = create_link(
            session=session, customer_id=anna, secret_key=settings.secret_key, actor=ACTOR
        ).token
        _, write_key = create_source(
            session=session, name="shop", channel=SourceChannel.web, actor=ACTOR
        )
        import_token = staff.create_token(
            session=session, name="warehouse", scopes=["events:import"], actor=ACTOR
        ).plaintext
    csrf = _csrf(client.get(f"/p/{link}").text)
    _consent(client, link, csrf, "marketing")
    _track(client, write_key, DAY - timedelta(days=3))
    _import(client, import_token)

    # Round 1: no research consent yet, so the contact policy holds both invitations (the
    # periodic NPS and the order's CSAT) and logs why.
    round_one = _jobs_round(sessions, settings, DAY)
    assert round_one["imports_done"] == 1, round_one
    with sessions() as session:
        held = session.scalars(select(Ask).where(Ask.customer_id == anna)).all()
        assert len(held) == 2 and {a.status for a in held} == {AskStatus.held}
        assert all(a.decision_id for a in held)

    # Round 2: with consent, the next order's invitation goes out by e-mail and is answered.
    _consent(client, link, csrf, "research")
    _track(client, write_key, DAY - timedelta(days=1), order="o-2")
    round_two = _jobs_round(sessions, settings, DAY + timedelta(days=1, hours=1))
    assert round_two["sent"] == 1, round_two
    _answer(client, inbox)
    with sessions() as session, session.begin():
        case = session.scalars(select(Case).where(Case.customer_id == anna)).one()
        cases.add_note(session=session, case_id=case.id, body=NOTE, actor=ACTOR)
        ingest_feedback(session=session, items=[FeedbackIn(text=FEEDBACK, customer_id=anna)])
        _merge_duplicate(session, defaults, anna)
    export_events(sessions=sessions, data_dir=settings.data_dir)
    assert _files_holding(settings.data_dir, EMAIL), "the person is in the lake before"
    return Life(anna, bystander, link, csrf, client, settings)


def _customer(
    session: Session,
    defaults: Defaults,
    name: str,
    address: str,
    phone: str | None = None,
    traits: dict[str, str] | None = None,
) -> int:
    identities = [IdentityCreate(type="email", value=address)]
    identities += [IdentityCreate(type="phone", value=phone)] if phone else []
    data = CustomerCreate(name=name, locale="da", identities=identities, traits=traits or {})
    return create_customer(session=session, data=data, defaults=defaults, actor=ACTOR).id


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _consent(client: TestClient, link: str, csrf: str, purpose: str) -> None:
    answer = client.post(
        f"/p/{link}/consent",
        data={"csrf_token": csrf, "purpose": purpose, "decision": "grant"},
        headers={"user-agent": f"Browser of {NAME}"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _track(client: TestClient, write_key: str, at: datetime, order: str = "o-1") -> None:
    identify = {
        "userId": USER_ID,
        "anonymousId": ANONYMOUS_ID,
        "messageId": f"identify-{order}",
        "traits": {"email": EMAIL, "phone": PHONE, "name": NAME},
    }
    track = {
        "userId": USER_ID,
        "event": "Order Completed",
        "messageId": f"track-{order}",
        "timestamp": at.isoformat(),
        "properties": {"order": order, "comment": TRACKED, "email": EMAIL},
    }
    for path, body in (("/v1/identify", identify), ("/v1/track", track)):
        answer = client.post(path, json=body, auth=(write_key, ""))
        assert answer.status_code == 200, answer.text


def _import(client: TestClient, token: str) -> None:
    """A file of events for the jobs process to import; one line is rejected with the
    person's e-mail address in its reason (they typed it where a date belongs)."""
    lines = [
        {"type": "page", "userId": USER_ID, "name": "Ordrer", "messageId": "imp-1"},
        {"type": "track", "userId": USER_ID, "event": "Basket Viewed", "timestamp": EMAIL},
    ]
    answer = client.post(
        "/api/v1/event-imports",
        params={"source": "shop", "file_name": "history.jsonl"},
        content=b"".join(orjson.dumps(line) + b"\n" for line in lines),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202, answer.text


def _jobs_round(sessions: SessionFactory, settings: Settings, now: datetime) -> dict[str, int]:
    """One round of ``tillit jobs run`` (the same two calls), at a chosen time."""
    rules, defaults = load_rules(), Defaults("DK", "da", "Europe/Copenhagen")
    return {
        **run_queued(sessions=sessions, data_dir=settings.data_dir, rules=rules, defaults=defaults),
        **run_dialogue_jobs(sessions=sessions, settings=settings, now=now),
    }


def _answer(client: TestClient, inbox: Inbox) -> None:
    message = email.message_from_bytes(inbox.messages[-1], policy=default)
    assert message["To"] == EMAIL
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https?://\S+(/d/\S+)", body)
    assert link, body
    answered = client.post(
        link.group(1), data={"score": "1", "follow_up": ANSWER}, follow_redirects=False
    )
    assert answered.status_code == 303, answered.text


def _merge_duplicate(session: Session, defaults: Defaults, anna: int) -> None:
    """A second profile of the same person (an old address), merged in by staff accepting a
    match suggestion: the shell keeps the name, the merge row a snapshot of it."""
    duplicate = _customer(session, defaults, NAME, OTHER_EMAIL)
    suggestion = MatchSuggestion(
        left_customer_id=anna, right_customer_id=duplicate, probability=0.9
    )
    session.add(suggestion)
    session.flush()
    suggestions.decide(session=session, suggestion_id=suggestion.id, accept=True, actor=ACTOR)


def _files_holding(data_dir: Path, *needles: str) -> list[tuple[str, str]]:
    """Every (file, needle) under the data directory where the file still holds the needle:
    Parquet files read back row by row, every other file as text."""
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
            text = " ".join(str(value) for row in rows for value in row.values())
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        found += [(str(path.relative_to(data_dir)), n) for n in needles if n in text]
    return found


def _erase_by_cli(life: Life, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", life.settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(life.settings.data_dir))
    monkeypatch.setenv("TILLIT_SECRET_KEY", life.settings.secret_key)
    result = CliRunner().invoke(cli, ["consent", "erase", str(life.customer_id), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"Erased customer {life.customer_id}" in result.output


def _erase_by_themselves(life: Life, monkeypatch: pytest.MonkeyPatch) -> None:
    erased = life.client.post(
        f"/p/{life.link_token}/erase", data={"csrf_token": life.csrf, "confirm": "yes"}
    )
    assert erased.status_code == 200, erased.text
    assert life.client.get(f"/p/{life.link_token}").status_code == 410


@pytest.mark.parametrize("erase", [_erase_by_cli, _erase_by_themselves], ids=["cli", "self"])
def test_erasure_after_a_real_life_leaves_no_trace_in_any_table_or_file(
    life: Life,
    erase: Callable[[Life, pytest.MonkeyPatch], None],
    monkeypatch: pytest.MonkeyPatch,
    sessions: SessionFactory,
    traces_of: Callable[..., list[tuple[str, str]]],
) -> None:
    erase(life, monkeypatch)

    assert traces_of(*NEEDLES) == []
    assert _files_holding(life.settings.data_dir, *NEEDLES) == []
    with sessions() as session:
        customer = session.get_one(Customer, life.customer_id)
        assert customer.status == CustomerStatus.erased
        # What stays, by design: keyed hashes of the contact points, and the proof.
        assert session.scalar(select(func.count()).select_from(Suppression)) == 5
        proof = session.scalars(
            select(ErasureProof).where(ErasureProof.customer_id == life.customer_id)
        ).one()
        assert proof.counts["contact_decision"] == 3 and proof.counts["files:event_lake"] > 0
        assert proof.counts["files:import_rejects"] == 1
        # The profile merged into theirs (same person, same name) is erased with them.
        shells = select(Customer.status).where(
            Customer.id.not_in([life.customer_id, life.bystander_id])
        )
        assert session.scalars(shells).all() == [CustomerStatus.erased]
        # Nobody else lost anything.
        bystander = session.get_one(Customer, life.bystander_id)
        assert bystander.status == CustomerStatus.active and bystander.name == "Bo Bystander"
        assert session.scalar(
            select(Identity.value).where(Identity.customer_id == life.bystander_id)
        ) == ("bo.bystander@example.org")


def test_an_erasure_that_fails_midway_erases_nothing(
    life: Life,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    traces_of: Callable[..., list[tuple[str, str]]],
) -> None:
    before = traces_of(*NEEDLES)
    files_before = _files_holding(life.settings.data_dir, *NEEDLES)

    def broken(session: Session, customer_id: int, needles: list[str]) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(areas.ERASERS, "zz_broken", broken)  # the last eraser to run
    with pytest.raises(RuntimeError), sessions() as session, session.begin():
        erasure.erase_customer(
            session=session,
            customer_id=life.customer_id,
            secret_key=life.settings.secret_key,
            actor=ACTOR,
            data_dir=life.settings.data_dir,
        )
    assert traces_of(*NEEDLES) == before
    assert _files_holding(life.settings.data_dir, *NEEDLES) == files_before
    with sessions() as session:
        assert session.get_one(Customer, life.customer_id).status == CustomerStatus.active
        assert session.scalar(select(func.count()).select_from(DecisionRecord)) >= 3
        assert session.scalar(select(func.count()).select_from(Event)) >= 4


def test_every_table_that_leads_to_a_customer_is_named_by_an_eraser() -> None:
    """A table that points at a customer, directly or through other tables (a case note
    through its case), or that keeps a customer id, must be named by an eraser: a new table
    cannot be forgotten by erasure."""
    leading = {"customer"}
    while True:
        found = {
            table.name
            for table in metadata.tables.values()
            if "customer_id" in table.c
            or any(key.column.table.name in leading for key in table.foreign_keys)
        }
        if found <= leading:
            break
        leading |= found
    covered = erasure.covered_tables()
    assert leading - covered == set()
    assert covered - set(metadata.tables) == set()  # no misspelt or removed table
