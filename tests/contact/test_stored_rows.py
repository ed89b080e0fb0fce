"""Rows stored before input was bounded, or damaged since, must never break other customers'
decisions, and a streamed audience answer must never end silently short."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from test_contact_api import grant, make_customer

from tillit.consent.models import PreferenceVersion

INTENT = {
    "purpose": "marketing",
    "kind": "marketing",
    "channel": "email",
    "at": "2026-12-02T11:00:00Z",
}


def store_preferences(sessions, customer_id: int, document: dict[str, Any]) -> None:
    """Written straight to the table, as an old row (or a damaged one) would be."""
    with sessions() as session, session.begin():
        session.add(
            PreferenceVersion(
                customer_id=customer_id,
                version=1,
                document=document,
                changed=sorted(document),
                method="api",
            )
        )


def test_a_stored_pause_at_the_end_of_the_calendar_defers_without_breaking_anyone(
    client, admin_headers, sessions
):
    paused, other = (
        make_customer(client, admin_headers, f"{name}@example.com") for name in ("pause", "other")
    )
    for customer_id in (paused, other):
        grant(sessions, customer_id)
    store_preferences(sessions, paused, {"paused_until": "9999-12-31"})
    single = client.post(
        "/api/v1/contact/decide", json={**INTENT, "customer_id": paused}, headers=admin_headers
    )
    assert single.status_code == 200, single.text
    assert (single.json()["outcome"], single.json()["reason"]) == ("deferred", "paused")
    assert single.json()["defer_until"].startswith("9999-01-01")
    audience = client.post(
        "/api/v1/contact/decide-audience",
        json={**INTENT, "customer_ids": [other, paused]},
        headers=admin_headers,
    )
    assert audience.status_code == 200
    rows = [json.loads(line) for line in audience.text.splitlines()]
    assert [(r["customer_id"], r["outcome"]) for r in rows] == [
        (other, "allowed"),
        (paused, "deferred"),
    ]


def test_a_failure_mid_stream_ends_with_an_error_line(client, admin_headers, sessions):
    """A damaged stored row (an impossible cap period) in the second chunk of 5,000: the first
    chunk's lines are sent, then an explicit error line, never a stream that merely stops."""
    damaged = make_customer(client, admin_headers, "damaged@example.com")
    store_preferences(sessions, damaged, {"caps": {"email": {"count": 1, "period": "aeon"}}})
    unknown = [damaged + 1 + n for n in range(5000)]  # nobody: cheap "unknown_customer" lines
    response = client.post(
        "/api/v1/contact/decide-audience",
        json={**INTENT, "customer_ids": [*unknown, damaged]},
        headers=admin_headers,
    )
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert len(rows) == 5001
    assert all(row["reason"] == "unknown_customer" for row in rows[:5000])
    error = rows[-1]["error"]
    assert error["status"] == 500
    assert "5000 of 5001" in error["detail"] and "incomplete" in error["detail"]


def test_a_failure_in_the_first_chunk_is_an_error_status_not_an_empty_200(
    settings, client, admin_headers, sessions
):
    damaged = make_customer(client, admin_headers, "damaged@example.com")
    store_preferences(sessions, damaged, {"caps": {"email": {"count": 1, "period": "aeon"}}})
    quiet = TestClient(client.app, raise_server_exceptions=False)
    response = quiet.post(
        "/api/v1/contact/decide-audience",
        json={**INTENT, "customer_ids": [damaged]},
        headers=admin_headers,
    )
    assert response.status_code == 500


def test_a_decision_time_near_the_calendars_ends_is_a_422(client, admin_headers):
    anna = make_customer(client, admin_headers, "anna@example.com")
    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00"):
        single = client.post(
            "/api/v1/contact/decide",
            json={**INTENT, "customer_id": anna, "at": at},
            headers=admin_headers,
        )
        audience = client.post(
            "/api/v1/contact/decide-audience",
            json={**INTENT, "customer_ids": [anna], "at": at},
            headers=admin_headers,
        )
        for response in (single, audience):
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == ["at"]


def test_a_send_with_an_unknown_channel_kind_or_naive_time_is_a_422(client, admin_headers):
    anna = make_customer(client, admin_headers, "anna@example.com")
    good = {"customer_id": anna, "channel": "email", "kind": "marketing"}
    for bad, field in (
        ({"channel": "fax"}, "channel"),
        ({"kind": "spam"}, "kind"),
        ({"topic": "t" * 65}, "topic"),
        ({"topic": "news\x00"}, "topic"),
        ({"sent_at": "2026-12-02T11:00:00"}, "sent_at"),
    ):
        response = client.post("/api/v1/contact/sends", json={**good, **bad}, headers=admin_headers)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert client.post("/api/v1/contact/sends", json=good, headers=admin_headers).status_code == 201
