from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tillit.app import create_app
from tillit.config import Settings
from tillit.customers.models import Identity
from tillit.events.models import Event, Source
from tillit.storage.session import SessionFactory
from tillit.web.api import tracking


def post(client: TestClient, path: str, key: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, json=body, auth=(key, ""))


def test_track_is_stored_once_per_message_id(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    body = {
        "userId": "u-1",
        "event": "Order Completed",
        "messageId": "m-1",
        "properties": {"total": 12.5},
    }
    first = post(client, "/v1/track", write_key, body)
    again = post(client, "/v1/track", write_key, body)
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 1
    assert again.json() == {**again.json(), "accepted": 0, "duplicates": 1}
    with sessions() as session:
        event = session.scalars(select(Event)).one()
    assert (event.type, event.name, event.channel, event.user_id) == (
        "track",
        "Order Completed",
        "web",
        "u-1",
    )
    assert event.payload["properties"] == {"total": 12.5}
    assert event.customer_id is not None


def test_batch_keeps_valid_and_names_the_invalid(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    batch = [
        {"type": "track", "anonymousId": "a-1", "event": "Viewed", "messageId": "ok-1"},
        {"type": "track", "anonymousId": "a-1", "messageId": "no-event"},
        {"type": "page", "name": "Home", "messageId": "no-ids"},
        {"type": "shout", "userId": "u", "messageId": "bad-type"},
        {
            "type": "page",
            "anonymousId": "a-1",
            "name": "Home",
            "messageId": "ok-2",
            "properties": {"pad": "x" * 40_000},
        },
    ]
    response = post(client, "/v1/batch", write_key, {"batch": batch})
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    reasons = {r["index"]: r["message"] for r in answer["rejected"]}
    assert set(reasons) == {1, 2, 3, 4}
    assert "needs event" in reasons[1]
    assert "userId or an anonymousId" in reasons[2]
    assert "type must be" in reasons[3]
    assert "32768 bytes" in reasons[4]
    with sessions() as session:
        assert session.scalars(select(Event.message_id)).all() == ["ok-1"]


def test_errors_are_problem_details(client: TestClient, write_key: str) -> None:
    unauthenticated = client.post("/v1/track", json={"userId": "u", "event": "x"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"] == "application/problem+json"
    wrong_key = post(client, "/v1/track", "nope", {"userId": "u", "event": "x"})
    assert wrong_key.status_code == 401
    invalid = post(client, "/v1/track", write_key, {"userId": "u"})
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["message"] == "track needs event"
    too_big = post(client, "/v1/batch", write_key, {"batch": [{"p": "x" * 600_000}]})
    assert too_big.status_code == 413
    assert too_big.json()["status"] == 413


def test_write_key_in_body_and_clock_skew_correction(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    # The device clock is an hour fast; the event happened 5 s before the device sent it.
    device_now = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "writeKey": write_key,
        "sentAt": device_now.isoformat(),
        "batch": [
            {
                "type": "track",
                "userId": "u-2",
                "event": "Opened",
                "timestamp": (device_now - timedelta(seconds=5)).isoformat(),
            },
        ],
    }
    before = datetime.now(UTC)
    assert client.post("/v1/batch", json=body).status_code == 200
    with sessions() as session:
        event = session.scalars(select(Event)).one()
    assert before - timedelta(seconds=7) < event.timestamp < before - timedelta(seconds=3)
    assert event.message_id.startswith("tillit-")  # content hash: a resend is still recognised
    assert client.post("/v1/batch", json=body).json()["duplicates"] == 1


def test_every_call_type_and_channel(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    calls = {
        "identify": {"userId": "u-3", "traits": {"email": "Ada@Example.org", "plan": "gold"}},
        "track": {"userId": "u-3", "event": "Signed Up", "context": {"channel": "mobile"}},
        "page": {"userId": "u-3", "name": "Pricing"},
        "screen": {"userId": "u-3", "name": "Basket", "context": {"channel": "app"}},
        "group": {"userId": "u-3", "groupId": "g-1"},
        "alias": {"userId": "u-3", "previousId": "old-3"},
    }
    for kind, body in calls.items():
        assert post(client, f"/v1/{kind}", write_key, body).status_code == 200, kind
    with sessions() as session:
        rows = dict(tuple(r) for r in session.execute(select(Event.type, Event.channel)))
        owners = set(session.scalars(select(Event.customer_id)))
        identities = session.scalar(select(func.count()).select_from(Identity))
    assert rows == {
        "identify": "web",
        "track": "app",
        "page": "web",
        "screen": "app",
        "group": "web",
        "alias": "web",
    }
    assert len(owners) == 1 and None not in owners
    assert identities == 3  # user id u-3, the e-mail, and old-3 from the alias


def test_a_disabled_source_is_refused_once_its_cached_lookup_expires(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    body = {"userId": "u-1", "event": "Viewed"}
    assert post(client, "/v1/track", write_key, body).status_code == 200
    with sessions() as session, session.begin():
        session.execute(update(Source).values(active=False))
    # Within SOURCE_CACHE_SECONDS the worker still trusts what it looked up ...
    assert post(client, "/v1/track", write_key, {**body, "event": "Again"}).status_code == 200
    # ... and asks the database again once that has passed.
    assert tracking.SOURCE_CACHE_SECONDS <= 10
    client.app.state.source_cache.expire_all()  # type: ignore[attr-defined]
    assert post(client, "/v1/track", write_key, {**body, "event": "Late"}).status_code == 401
    assert post(client, "/v1/track", "tlw_unknown", body).status_code == 401


GOOD = {"type": "track", "userId": "u-9", "event": "Viewed", "messageId": "good"}
NOW = datetime.now(UTC)
# A message that breaks one time rule, and what its rejection says.
BAD_TIMES = {
    "east of UTC in year 1": ({"timestamp": "0001-01-01T00:00:00+14:00"}, "in UTC"),
    "west of UTC in year 9999": ({"timestamp": "9999-12-31T23:59:59-14:00"}, "in UTC"),
    "sentAt in year 9999": (
        {"timestamp": "2026-01-01T00:00:00Z", "sentAt": "9999-01-01T00:00:00Z"},
        "corrected for the sender's clock",
    ),
    "sentAt in year 1": (  # corrected by Segment's rule: the year 4051
        {"timestamp": "2026-01-01T00:00:00Z", "sentAt": "0001-01-02T00:00:00Z"},
        "more than 1 day after it was received",
    ),
    "timestamp in 4049": (
        {"timestamp": "4049-01-01T00:00:00Z", "sentAt": NOW.isoformat()},
        "more than 1 day after it was received",
    ),
    "no sentAt, next week": (
        {"timestamp": (NOW + timedelta(days=7)).isoformat()},
        "timestamp is",
    ),
    "before 1970": ({"originalTimestamp": "1969-12-31T23:59:59Z"}, "before 1970-01-01"),
    "receivedAt unreadable": ({"receivedAt": "9999-12-31T23:59:59-01:00"}, "receivedAt"),
    "sentAt not a time": ({"sentAt": "yesterday"}, "sentAt is not an ISO 8601"),
}


@pytest.mark.parametrize("case", list(BAD_TIMES))
def test_a_time_out_of_range_rejects_that_message_alone(
    client: TestClient, write_key: str, sessions: SessionFactory, case: str
) -> None:
    fields, reason = BAD_TIMES[case]
    bad = {**GOOD, "messageId": "bad", **fields}
    response = post(client, "/v1/batch", write_key, {"batch": [GOOD, bad]})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    [rejected] = response.json()["rejected"]
    assert (rejected["index"], rejected["messageId"]) == (1, "bad")
    assert reason in rejected["message"]
    with sessions() as session:
        assert session.scalars(select(Event.message_id)).all() == ["good"]


def test_a_device_clock_years_off_is_still_corrected(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    # A phone reset to 2001 sends an event it queued an hour before: stored an hour ago.
    device_now = datetime(2001, 1, 1, tzinfo=UTC)
    message = {**GOOD, "timestamp": (device_now - timedelta(hours=1)).isoformat()}
    body = {"batch": [message], "sentAt": device_now.isoformat()}
    assert post(client, "/v1/batch", write_key, body).json()["accepted"] == 1
    with sessions() as session:
        stored = session.scalars(select(Event.timestamp)).one()
    assert abs(stored - (datetime.now(UTC) - timedelta(hours=1))) < timedelta(minutes=1)


def test_a_batch_sent_at_out_of_range_is_a_problem_naming_it(
    client: TestClient, write_key: str
) -> None:
    body = {"batch": [GOOD], "sentAt": "0001-01-01T00:00:00+14:00"}
    response = post(client, "/v1/batch", write_key, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sentAt"


NUL = "must not contain the NUL character (U+0000)"
NUL_PLACES = {
    "a property": ({"properties": {"note": "a\u0000b"}}, f"properties.note {NUL}"),
    "a key": ({"properties": {"no\u0000te": 1}}, f"a key in properties {NUL}"),
    "a list": ({"context": {"tags": ["ok", "\u0000"]}}, f"context.tags[1] {NUL}"),
    "the userId": ({"userId": "u\u0000"}, f"userId {NUL}"),
    "the event name": ({"event": "Vie\u0000wed"}, f"event {NUL}"),
    "a trait": ({"traits": {"email": "a\u0000@example.com"}}, f"traits.email {NUL}"),
}


@pytest.mark.parametrize("place", list(NUL_PLACES))
def test_nul_anywhere_rejects_that_message_alone_on_every_database(
    client: TestClient, write_key: str, sessions: SessionFactory, place: str
) -> None:
    fields, reason = NUL_PLACES[place]
    bad = {**GOOD, "messageId": "bad", **fields}
    response = post(client, "/v1/batch", write_key, {"batch": [bad, GOOD]})
    assert response.status_code == 200, response.text
    [rejected] = response.json()["rejected"]
    assert rejected["index"] == 0
    assert rejected["message"] == reason
    with sessions() as session:
        assert session.scalars(select(Event.message_id)).all() == ["good"]
    single = post(client, "/v1/track", write_key, bad)
    assert single.status_code == 400
    assert single.json()["errors"][0]["message"] == reason


def test_nesting_too_deep_to_store_rejects_that_message_alone(
    client: TestClient, write_key: str
) -> None:
    def nested(depth: int, leaf: object) -> object:
        for _ in range(depth):
            leaf = [leaf]
        return leaf

    deepest = {**GOOD, "messageId": "deepest", "properties": {"p": nested(252, "\u0000")}}
    too_deep = {**GOOD, "messageId": "too-deep", "properties": {"p": nested(253, 1)}}
    answer = post(client, "/v1/batch", write_key, {"batch": [deepest, too_deep, GOOD]}).json()
    first, second = answer["rejected"]
    assert first["message"] == f"properties.p{'[0]' * 252} {NUL}"
    assert second["message"].startswith("nests objects and lists over 254 deep")
    assert answer["accepted"] == 1


def test_nul_in_a_gzipped_batch_is_found_after_decompression(
    client: TestClient, write_key: str
) -> None:
    # The API looks for the escape once in the whole body: in the body as decompressed.
    bad = {**GOOD, "messageId": "bad", "properties": {"note": "a\u0000b"}}
    body = gzip.compress(orjson.dumps({"batch": [bad, GOOD]}))
    response = client.post(
        "/v1/batch",
        content=body,
        auth=(write_key, ""),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.json()["rejected"][0]["message"] == f"properties.note {NUL}"


def test_a_literal_backslash_u0000_is_text_and_is_stored(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    note = "C:\\u0000\\notes"  # six characters "\u0000" written out, not the NUL character
    message = {**GOOD, "properties": {"note": note}}
    assert post(client, "/v1/batch", write_key, {"batch": [message]}).json()["accepted"] == 1
    with sessions() as session:
        assert session.scalars(select(Event)).one().payload["properties"]["note"] == note


def test_integer_ids_are_their_decimal_text_and_other_non_strings_are_refused(
    client: TestClient, write_key: str, sessions: SessionFactory
) -> None:
    numeric = {"type": "track", "userId": 42, "event": "Viewed", "messageId": 7}
    first = post(client, "/v1/batch", write_key, {"batch": [numeric]})
    assert first.json()["accepted"] == 1
    as_text = {**numeric, "userId": "42", "messageId": "7"}
    assert post(client, "/v1/batch", write_key, {"batch": [as_text]}).json()["duplicates"] == 1
    with sessions() as session:
        event = session.scalars(select(Event)).one()
    assert (event.message_id, event.user_id) == ("7", "42")
    refused = [
        {**GOOD, "messageId": 7.5},
        {**GOOD, "messageId": True},
        {**GOOD, "messageId": ["m"]},
        {**GOOD, "userId": 4.2},
        {**GOOD, "userId": False},
        {**GOOD, "userId": {"id": 1}},
    ]
    answer = post(client, "/v1/batch", write_key, {"batch": [GOOD, *refused]}).json()
    reasons = [r["message"] for r in answer["rejected"]]
    spoiled = {**numeric, "messageId": 8, "userId": 4.2}  # named as it would be stored
    assert post(client, "/v1/track", write_key, spoiled).json()["errors"][0]["messageId"] == "8"
    assert answer["accepted"] == 1
    assert (
        reasons
        == ["messageId must be a string or an integer"] * 3
        + ["userId must be a string or an integer"] * 3
    )


def test_the_tracking_api_answers_any_origin_and_only_it(
    settings: Settings, write_key: str
) -> None:
    widget_site = "https://shop.example.com"
    app = create_app(settings.model_copy(update={"widget_origins": widget_site}))
    other_site = "https://www.example.org"
    with TestClient(app) as client:
        preflight = client.options(
            "/v1/track",
            headers={
                "Origin": other_site,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert "access-control-allow-credentials" not in preflight.headers
        for origin in (other_site, widget_site):
            sent = client.post(
                "/v1/track", json=GOOD, auth=(write_key, ""), headers={"Origin": origin}
            )
            assert sent.status_code == 200
            assert sent.headers.get_list("access-control-allow-origin") == ["*"]
        refused = client.post("/v1/track", json=GOOD, headers={"Origin": other_site})
        assert refused.status_code == 401  # a problem the page can read, not a CORS error
        assert refused.headers["access-control-allow-origin"] == "*"
        # The rest of the app keeps its own rule: the widget's site, no one else.
        elsewhere = client.options(
            "/api/v1/customers",
            headers={"Origin": other_site, "Access-Control-Request-Method": "POST"},
        )
        assert elsewhere.headers.get("access-control-allow-origin") != "*"
        widget = client.options(
            "/api/v1/customers",
            headers={"Origin": widget_site, "Access-Control-Request-Method": "POST"},
        )
        assert widget.headers["access-control-allow-origin"] == widget_site
        no_origin = client.post("/v1/track", json=GOOD, auth=(write_key, ""))
        assert "access-control-allow-origin" not in no_origin.headers
    app.state.engine.dispose()
