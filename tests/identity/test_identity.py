from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from tillit.audit.service import Actor
from tillit.customers.models import Customer, Identity
from tillit.events.models import Event
from tillit.identity.merge import unmerge
from tillit.identity.models import Merge
from tillit.storage.session import SessionFactory


def send(client: TestClient, key: str, *batch: dict[str, object]) -> dict[str, object]:
    response = client.post("/v1/batch", json={"batch": list(batch)}, auth=(key, ""))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def owners(sessions: SessionFactory) -> dict[str, int | None]:
    with sessions() as session:
        return {m: c for m, c in session.execute(select(Event.message_id, Event.customer_id))}


def test_anonymous_history_is_stitched_on_identify(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    send(
        client,
        write_key,
        {"type": "page", "anonymousId": "anon-1", "name": "Home", "messageId": "p1"},
        {"type": "track", "anonymousId": "anon-1", "event": "Added", "messageId": "t1"},
    )
    assert set(owners(sessions).values()) == {None}
    send(
        client,
        write_key,
        {
            "type": "identify",
            "anonymousId": "anon-1",
            "userId": "ada",
            "traits": {"email": "ada@example.com", "name": "Ada L"},
            "messageId": "i1",
        },
    )
    found = owners(sessions)
    assert len(set(found.values())) == 1 and None not in found.values()


def test_shared_email_merges_and_unmerge_restores(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    send(
        client,
        write_key,
        {
            "type": "identify",
            "anonymousId": "phone-app",
            "traits": {"email": "bo@example.com"},
            "messageId": "i1",
        },
        {"type": "track", "anonymousId": "phone-app", "event": "Opened", "messageId": "t1"},
        {
            "type": "identify",
            "userId": "bo",
            "traits": {"phone": "+45 20 12 34 56"},
            "messageId": "i2",
        },
        {"type": "track", "userId": "bo", "event": "Paid", "messageId": "t2"},
    )
    before = owners(sessions)
    assert before["t1"] != before["t2"]
    answer = send(
        client,
        write_key,
        {
            "type": "identify",
            "userId": "bo",
            "traits": {"email": "bo@example.com"},
            "messageId": "i3",
        },
    )
    assert answer["merges"] == 1
    merged = owners(sessions)
    assert merged["t1"] == merged["t2"] == before["t2"]  # the user id's profile wins
    with sessions() as session, session.begin():
        merge = session.scalars(select(Merge)).one()
        assert (merge.from_customer_id, merge.into_customer_id) == (before["t1"], before["t2"])
        assert merge.message_id == "i3" and "email" in merge.reason
        unmerge(session=session, merge_id=merge.id, actor=Actor.system("test"))
    assert owners(sessions)["t1"] == before["t1"]
    assert owners(sessions)["t2"] == before["t2"]
    with sessions() as session:
        email_owner = session.scalar(select(Identity.customer_id).where(Identity.type == "email"))
        assert session.get(Merge, merge.id).undone_at is not None  # type: ignore[union-attr]
    assert email_owner == before["t1"]


def test_blocked_values_never_link(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    people = [
        {
            "type": "identify",
            "userId": f"user-{n}",
            "anonymousId": "undefined",
            "traits": {"email": "test@example.com"},
            "messageId": f"i{n}",
        }
        for n in range(50)
    ]
    answer = send(client, write_key, *people)
    assert answer["merges"] == 0
    assert len(set(owners(sessions).values())) == 50
    with sessions() as session:
        values = set(session.scalars(select(Identity.value)))
    assert "undefined" not in values and "test@example.com" not in values


def test_second_user_id_on_a_shared_device_is_a_new_person(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    send(
        client,
        write_key,
        {"type": "identify", "userId": "cy", "anonymousId": "family-ipad", "messageId": "i1"},
        {"type": "identify", "userId": "di", "anonymousId": "family-ipad", "messageId": "i2"},
        {
            "type": "track",
            "userId": "di",
            "anonymousId": "family-ipad",
            "event": "x",
            "messageId": "t1",
        },
    )
    found = owners(sessions)
    assert found["i1"] != found["i2"] and found["t1"] == found["i2"]
    with sessions() as session:
        assert session.scalars(select(Merge)).all() == []


def test_traits_of_a_returning_person_are_written_only_when_they_change(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    """A sign-in repeats the traits a profile holds: then the profile is not written at all.
    Changes land, the last one of a batch winning, and a name fills only an empty one."""

    def identify(message_id: str, **traits: object) -> dict[str, object]:
        return {"type": "identify", "userId": "mia", "traits": traits, "messageId": message_id}

    send(client, write_key, identify("i1", email="mia@example.com", plan="basic", name="Mia K"))
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    updates: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE CUSTOMER"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        send(client, write_key, identify("i2", plan="basic", name="Someone Else"))
        assert updates == []  # nothing new: the name stays, the plan is the same
        send(client, write_key, identify("i3", plan="pro"), identify("i4", plan="plus", seats=3))
        assert len(updates) == 1  # the two changes of one batch, written once
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with sessions() as session:
        mia = session.scalars(select(Customer)).one()
    assert (mia.name, mia.traits) == ("Mia K", {"plan": "plus", "seats": 3})


def test_identify_traits_never_grow_a_profile_past_the_traits_limit(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    from tillit.customers.validation import TRAITS_MAX_BYTES

    chunk = "x" * (TRAITS_MAX_BYTES // 3)  # each identify fits an event; four do not fit a profile
    for n in range(4):
        send(
            client,
            write_key,
            {"type": "identify", "userId": "big", "traits": {f"t{n}": chunk}, "messageId": f"i{n}"},
        )
    with sessions() as session:
        [customer] = session.scalars(select(Customer))
        assert set(customer.traits) == {"t0", "t1"}
