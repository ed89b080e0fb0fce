"""The contact policy over HTTP, on stored customers (real database, app in-process)."""

from __future__ import annotations

import json

from tillit.audit.service import Actor
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method

ACTOR = Actor.system("tests")


def make_customer(client, headers, email: str, phone: str | None = None) -> int:
    identities = [{"type": "email", "value": email}]
    if phone:
        identities.append({"type": "phone", "value": phone})
    body = {"locale": "da-DK", "time_zone": "Europe/Copenhagen", "identities": identities}
    return client.post("/api/v1/customers", json=body, headers=headers).json()["id"]


def grant(sessions, customer_id: int, purpose: str = "marketing") -> None:
    with sessions() as session, session.begin():
        record_consent(
            session=session,
            customer_id=customer_id,
            purpose_key=purpose,
            decision=ConsentDecision.granted,
            method=Method.api,
            actor=ACTOR,
        )


def test_decide_logs_and_sends_count_toward_the_company_cap(
    client, admin_headers, sessions, engine
):
    freja = make_customer(client, admin_headers, "freja@example.com")
    intent = {
        "customer_id": freja,
        "purpose": "marketing",
        "kind": "marketing",
        "channel": "email",
        "topic": None,
        "at": "2026-12-02T11:00:00Z",
    }
    refused = client.post("/api/v1/contact/decide", json=intent, headers=admin_headers).json()
    assert (refused["outcome"], refused["reason"]) == ("denied", "no_consent")
    assert refused["decision_id"] is None
    grant(sessions, freja)
    for day in (1, 2):  # the default company cap: two marketing e-mails a week
        allowed = client.post(
            "/api/v1/contact/decide", json={**intent, "log": True}, headers=admin_headers
        ).json()
        assert allowed["outcome"] == "allowed" and allowed["decision_id"]
        sent = client.post(
            "/api/v1/contact/sends",
            headers=admin_headers,
            json={
                "customer_id": freja,
                "channel": "email",
                "kind": "marketing",
                "decision_id": allowed["decision_id"],
                "sent_at": f"2026-12-0{day}T09:00:00Z",
            },
        )
        assert sent.status_code == 201, sent.text
    capped = client.post("/api/v1/contact/decide", json=intent, headers=admin_headers).json()
    assert (capped["outcome"], capped["reason"]) == ("deferred", "company_cap")
    assert capped["defer_until"].startswith("2026-12-08T09:00:00")
    assert any(c["name"] == "company_cap" for c in capped["checks"])
    sms = client.post(
        "/api/v1/contact/decide", json={**intent, "channel": "sms"}, headers=admin_headers
    ).json()
    assert (sms["outcome"], sms["reason"]) == ("denied", "channel_unreachable")


def test_audience_is_streamed_and_agrees_with_single_decisions(
    client, admin_headers, sessions, engine
):
    ids = [
        make_customer(
            client,
            admin_headers,
            f"p{n}@example.com",
            phone=f"+45 20 12 34 {n:02d}" if n % 2 else None,
        )
        for n in range(6)
    ]
    for customer_id in ids[:4]:
        grant(sessions, customer_id)
    body = {
        "customer_ids": ids,
        "purpose": "marketing",
        "kind": "marketing",
        "channel": "sms",
        "at": "2026-12-02T11:00:00Z",
    }
    response = client.post("/api/v1/contact/decide-audience", json=body, headers=admin_headers)
    assert response.headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["customer_id"] for r in rows] == ids
    for row in rows:
        single = client.post(
            "/api/v1/contact/decide",
            headers=admin_headers,
            json={
                "customer_id": row["customer_id"],
                "purpose": "marketing",
                "kind": "marketing",
                "channel": "sms",
                "at": "2026-12-02T11:00:00Z",
            },
        ).json()
        assert (row["outcome"], row["reason"]) == (single["outcome"], single["reason"])
    assert {r["reason"] for r in rows} == {None, "channel_unreachable", "no_consent"}


def test_bad_intents_are_problems(client, admin_headers, token_for):
    freja = make_customer(client, admin_headers, "f2@example.com")
    bad = client.post(
        "/api/v1/contact/decide",
        headers=admin_headers,
        json={"customer_id": freja, "purpose": "marketing", "kind": "spam", "channel": "fax"},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "channel"}
    missing = client.post(
        "/api/v1/contact/decide",
        headers=admin_headers,
        json={
            "customer_id": 99999,
            "purpose": "marketing",
            "kind": "marketing",
            "channel": "email",
        },
    )
    assert missing.status_code == 404
    reader = {"Authorization": f"Bearer {token_for('customers:read')}"}
    assert (
        client.post(
            "/api/v1/contact/decide",
            headers=reader,
            json={
                "customer_id": freja,
                "purpose": "marketing",
                "kind": "marketing",
                "channel": "email",
            },
        ).status_code
        == 403
    )


def test_a_suppressed_contact_point_and_an_unknown_id_are_never_contacted(
    client, admin_headers, sessions, settings
):
    """Someone erased comes back through an import with the same e-mail address: the salted
    hash on the suppression list still stops every message, single or in an audience."""
    from tillit.consent.suppression import suppress

    returning = make_customer(client, admin_headers, "kom.igen@example.com", "+45 20 12 34 99")
    other = make_customer(client, admin_headers, "anden@example.com")
    for customer_id in (returning, other):
        grant(sessions, customer_id)
    with sessions() as session, session.begin():
        suppress(
            session=session,
            identity_type="phone",
            value="+4520123499",
            secret_key=settings.secret_key,
            reason="erased",
        )
    intent = {"purpose": "marketing", "kind": "marketing", "channel": "email"}
    single = client.post(
        "/api/v1/contact/decide", json={**intent, "customer_id": returning}, headers=admin_headers
    ).json()
    assert (single["outcome"], single["reason"]) == ("denied", "suppressed")
    unknown = other + 1000
    response = client.post(
        "/api/v1/contact/decide-audience",
        json={**intent, "customer_ids": [unknown, returning, other]},
        headers=admin_headers,
    )
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [(r["customer_id"], r["outcome"], r["reason"]) for r in rows] == [
        (unknown, "denied", "unknown_customer"),
        (returning, "denied", "suppressed"),
        (other, "allowed", None),
    ]
    missing = client.post(
        "/api/v1/contact/decide", json={**intent, "customer_id": unknown}, headers=admin_headers
    )
    assert missing.status_code == 404
