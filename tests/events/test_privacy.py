"""Events in data requests: GPC on tracking calls, export, and erasure of the database rows
and the Parquet lake files."""

from __future__ import annotations

from pathlib import Path

import duckdb
from fastapi.testclient import TestClient
from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.ledger import current_consents, record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.models import Customer, CustomerStatus, Identity
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.events.lake import export_events
from tillit.events.models import Event
from tillit.identity import suggestions
from tillit.identity.models import MatchSuggestion
from tillit.privacy.erasure import erase_customer
from tillit.privacy.export import export_customer
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tests")
EMAIL = "kari.nordmann@example.com"
PHONE = "+4791234567"
FREE_TEXT = "Leveringen var forsinket igjen"


def identify_and_track(client: TestClient, key: str, **headers: str) -> None:
    identify = {
        "userId": "u-kari",
        "anonymousId": "a-kari",
        "messageId": "m-id",
        "traits": {"email": EMAIL, "phone": PHONE, "name": "Kari Nordmann"},
    }
    track = {
        "userId": "u-kari",
        "event": "Feedback Given",
        "messageId": "m-fb",
        "properties": {"comment": FREE_TEXT, "email": EMAIL},
    }
    for path, body in (("/v1/identify", identify), ("/v1/track", track)):
        response = client.post(path, json=body, auth=(key, ""), headers=headers)
        assert response.status_code == 200, response.text


def customer_of(sessions: SessionFactory) -> int:
    with sessions() as session:
        return session.scalars(select(Identity.customer_id).where(Identity.value == EMAIL)).one()


def test_gpc_on_a_tracking_call_withdraws_partner_sharing(client, write_key, sessions):
    identify_and_track(client, write_key)
    customer_id = customer_of(sessions)
    with sessions() as session, session.begin():
        record_consent(
            session=session,
            customer_id=customer_id,
            purpose_key="partner_sharing",
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=ACTOR,
        )
    track = {"userId": "u-kari", "event": "Page Viewed", "messageId": "m-gpc"}
    assert (
        client.post(
            "/v1/track", json=track, auth=(write_key, ""), headers={"Sec-GPC": "1"}
        ).status_code
        == 200
    )
    with sessions() as session:
        sharing = current_consents(session=session, customer_id=customer_id)["partner_sharing"]
    assert (sharing.decision, sharing.method) == ("withdrawn", "gpc")


def test_export_holds_events_and_erasure_leaves_no_trace(
    client, write_key, sessions, traces_of, settings: Settings
):
    identify_and_track(client, write_key)
    customer_id = customer_of(sessions)
    export_events(sessions=sessions, data_dir=settings.data_dir)
    lake_files = list(Path(settings.data_dir).glob("lake/events/date=*/*.parquet"))
    assert lake_files
    assert EMAIL in lake_text(settings.data_dir)  # the person is in the lake before the erasure
    with sessions() as session:
        document = export_customer(session=session, customer_id=customer_id)
    assert {e["name"] for e in document["events"]} >= {"Feedback Given"}

    with sessions() as session, session.begin():
        proof = erase_customer(
            session=session,
            customer_id=customer_id,
            secret_key=settings.secret_key,
            actor=ACTOR,
            data_dir=settings.data_dir,
        )
    assert proof.counts["events"] >= 2 and proof.counts["files:event_lake"] >= 2

    needles = (EMAIL, PHONE, FREE_TEXT, "u-kari", "a-kari")
    assert traces_of(*needles) == []
    remaining = lake_text(settings.data_dir)
    assert not any(n in remaining for n in needles)


def lake_text(data_dir: Path) -> str:
    """Every value of every lake file, read back through DuckDB."""
    rows = []
    for path in Path(data_dir).glob("lake/events/date=*/*.parquet"):
        query = f"SELECT * EXCLUDE (timestamp, received_at) FROM read_parquet('{path}')"
        rows += duckdb.sql(query).fetchall()
    return " ".join(str(value) for row in rows for value in row)


def test_erasure_keeps_what_another_person_did_on_a_shared_device(client, write_key, sessions):
    """An event of the erased person's anonymous id that carries someone else's user id is
    that person's (a shared browser): it stays, attributed to them."""
    identify_and_track(client, write_key)
    kari = customer_of(sessions)
    shared = {"userId": "u-ola", "anonymousId": "a-kari", "event": "Basket Viewed"}
    response = client.post("/v1/track", json={**shared, "messageId": "m-ola"}, auth=(write_key, ""))
    assert response.status_code == 200, response.text
    with sessions() as session, session.begin():
        erase_customer(
            session=session,
            customer_id=kari,
            secret_key="test-secret-key-that-is-long-enough-0123456789",
            actor=ACTOR,
            data_dir=None,
        )
    with sessions() as session:
        left = session.execute(select(Event.message_id, Event.user_id, Event.customer_id)).all()
    assert [(m, u) for m, u, _ in left] == [("m-ola", "u-ola")]
    assert left[0][2] is not None and left[0][2] != kari


def test_erasure_after_an_accepted_match_suggestion_takes_the_merged_profile_too(
    client, write_key, sessions, traces_of, settings: Settings
):
    """Accepting a suggestion merges the other profile in and names the merge; erasing the
    person deletes the merge (it used to fail on the suggestion's foreign key) and erases the
    shell the merge left, which still carried their name."""
    identify_and_track(client, write_key)
    kari = customer_of(sessions)
    with sessions() as session, session.begin():
        old = create_customer(
            session=session,
            data=CustomerCreate(
                name="Kari Nordmann",
                identities=[IdentityCreate(type="email", value="kari.old@example.net")],
            ),
            defaults=Defaults("NO", "nb", "Europe/Oslo"),
            actor=ACTOR,
        ).id
        suggestion = MatchSuggestion(left_customer_id=kari, right_customer_id=old, probability=0.9)
        session.add(suggestion)
        session.flush()
        suggestions.decide(session=session, suggestion_id=suggestion.id, accept=True, actor=ACTOR)

    with sessions() as session, session.begin():
        erase_customer(
            session=session, customer_id=kari, secret_key=settings.secret_key, actor=ACTOR
        )
    assert traces_of("Kari Nordmann", "kari.old@example.net", EMAIL) == []
    with sessions() as session:
        statuses = session.scalars(select(Customer.status).where(Customer.id.in_([kari, old])))
        assert set(statuses) == {CustomerStatus.erased}
        assert session.scalars(select(MatchSuggestion)).all() == []
