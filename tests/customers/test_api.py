"""The customers API, called in-process against a real database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tillit.audit.models import AuditEntry
from tillit.customers.models import Customer, Identity
from tillit.storage.session import SessionFactory

ANNA = {
    "name": "Anna Jensen",
    "locale": "da-DK",
    "time_zone": "Europe/Copenhagen",
    "country": "dk",
    "traits": {"city": "Aarhus"},
    "identities": [
        {"type": "email", "value": " Anna.Jensen@EXAMPLE.com "},
        {"type": "phone", "value": "20 12 34 56"},
    ],
}


def count(sessions: SessionFactory, model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_create_normalises_identities_and_answers_201(client: TestClient, admin_headers):
    response = client.post("/api/v1/customers", json=ANNA, headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"].endswith(f"/api/v1/customers/{body['id']}")
    assert body["country"] == "DK"
    assert [(i["type"], i["value"]) for i in body["identities"]] == [
        ("email", "anna.jensen@example.com"),
        ("phone", "+4520123456"),
    ]
    fetched = client.get(f"/api/v1/customers/{body['id']}", headers=admin_headers).json()
    assert fetched["traits"] == {"city": "Aarhus"}


def test_malformed_email_is_a_422_problem_naming_the_field(client, admin_headers, sessions):
    payload = {
        **ANNA,
        "identities": [
            {"type": "phone", "value": "+46 70 123 45 67"},
            {"type": "email", "value": "anna@@example"},
        ],
    }
    response = client.post("/api/v1/customers", json=payload, headers=admin_headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith("/problems/invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["identities[1].value"]
    assert count(sessions, Customer) == 0 and count(sessions, Identity) == 0


def test_malformed_phone_and_locale_are_both_reported(client, admin_headers, sessions):
    payload = {**ANNA, "locale": "xx-nowhere", "identities": [{"type": "phone", "value": "12"}]}
    response = client.post("/api/v1/customers", json=payload, headers=admin_headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"locale", "identities[0].value"}
    assert count(sessions, Customer) == 0


def test_schema_violation_is_a_problem_too(client, admin_headers):
    response = client.post(
        "/api/v1/customers",
        json={"identities": [{"type": "fax", "value": "1"}]},
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "identities[0].type"


def test_duplicate_identity_is_409_and_nothing_is_half_written(client, admin_headers, sessions):
    assert client.post("/api/v1/customers", json=ANNA, headers=admin_headers).status_code == 201
    other = {
        "name": "Someone Else",
        "identities": [
            {"type": "user_id", "value": "u-new"},
            {"type": "email", "value": "Anna.Jensen@EXAMPLE.COM"},
        ],
    }
    response = client.post("/api/v1/customers", json=other, headers=admin_headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "already belongs" in response.json()["detail"]
    assert count(sessions, Customer) == 1
    with sessions() as session:
        assert session.scalar(select(Identity).where(Identity.value == "u-new")) is None


def test_same_identity_twice_in_one_request_is_refused(client, admin_headers):
    payload = {
        "identities": [
            {"type": "email", "value": "a@example.com"},
            {"type": "email", "value": "a@EXAMPLE.com"},
        ]
    }
    response = client.post("/api/v1/customers", json=payload, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "identities[1].value"


def test_update_merges_traits_and_is_audited(client, admin_headers, sessions):
    created = client.post("/api/v1/customers", json=ANNA, headers=admin_headers).json()
    response = client.patch(
        f"/api/v1/customers/{created['id']}",
        json={"traits": {"city": None, "tier": "gold"}, "time_zone": "Europe/Oslo"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert response.json()["traits"] == {"tier": "gold"}
    with sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.update")
        ).one()
    assert entry.actor_type == "token"
    assert entry.before["time_zone"] == "Europe/Copenhagen"
    assert entry.after["time_zone"] == "Europe/Oslo"


def test_unknown_customer_is_a_404_problem(client, admin_headers):
    response = client.get("/api/v1/customers/999999", headers=admin_headers)
    assert response.status_code == 404
    assert response.json()["title"] == "Not found"


def test_identities_can_be_added_and_removed(client, admin_headers):
    created = client.post("/api/v1/customers", json=ANNA, headers=admin_headers).json()
    url = f"/api/v1/customers/{created['id']}/identities"
    added = client.post(
        url, json={"type": "social_handle", "value": "Instagram:@Anna_J"}, headers=admin_headers
    )
    assert added.status_code == 201
    assert added.json()["value"] == "instagram:anna_j"
    found = client.get("/api/v1/identities/social_handle/instagram:anna_j", headers=admin_headers)
    assert found.json()["id"] == created["id"]
    assert client.delete(f"{url}/{added.json()['id']}", headers=admin_headers).status_code == 204
    assert (
        client.get(
            "/api/v1/identities/social_handle/instagram:anna_j", headers=admin_headers
        ).status_code
        == 404
    )


def test_search_by_identity_trait_and_text_with_pages(client, admin_headers):
    ids = []
    for number in range(5):
        body = {
            "name": f"Kari Nordmann {number}",
            "country": "NO",
            "traits": {"tier": "gold" if number % 2 else "none"},
            "identities": [{"type": "email", "value": f"kari{number}@example.com"}],
        }
        ids.append(client.post("/api/v1/customers", json=body, headers=admin_headers).json()["id"])
    by_email = client.get(
        "/api/v1/customers", params={"identity": "email:KARI3@example.com"}, headers=admin_headers
    ).json()
    assert [c["id"] for c in by_email["items"]] == [ids[3]]
    by_trait = client.get(
        "/api/v1/customers", params={"trait": "tier=gold"}, headers=admin_headers
    ).json()
    assert sorted(c["id"] for c in by_trait["items"]) == [ids[1], ids[3]]
    first = client.get(
        "/api/v1/customers", params={"q": "Nordmann", "limit": 2}, headers=admin_headers
    ).json()
    assert [c["id"] for c in first["items"]] == [ids[4], ids[3]]
    second = client.get(
        "/api/v1/customers",
        params={"q": "Nordmann", "limit": 2, "cursor": first["next_cursor"]},
        headers=admin_headers,
    ).json()
    assert [c["id"] for c in second["items"]] == [ids[2], ids[1]]
    last = client.get(
        "/api/v1/customers",
        params={"q": "Nordmann", "limit": 2, "cursor": second["next_cursor"]},
        headers=admin_headers,
    ).json()
    assert [c["id"] for c in last["items"]] == [ids[0]] and last["next_cursor"] is None


def test_bad_cursor_and_filters_are_422(client, admin_headers):
    for params in ({"cursor": "garbage"}, {"identity": "email"}, {"trait": "novalue"}):
        response = client.get("/api/v1/customers", params=params, headers=admin_headers)
        assert response.status_code == 422, params


def test_tokens_need_the_right_scope(client, token_for):
    assert client.get("/api/v1/customers").status_code == 401
    reader = {"Authorization": f"Bearer {token_for('customers:read')}"}
    assert client.get("/api/v1/customers", headers=reader).status_code == 200
    response = client.post("/api/v1/customers", json=ANNA, headers=reader)
    assert response.status_code == 403
    assert "customers:write" in response.json()["detail"]
    bogus = {"Authorization": "Bearer tlt_deadbeef_nope"}
    assert client.get("/api/v1/customers", headers=bogus).status_code == 401


def test_openapi_and_health(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers" in spec["paths"]
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_a_revoked_token_stops_working_once_its_check_expires(client, sessions):
    from sqlalchemy import select as select_

    from tillit.audit.service import Actor
    from tillit.staff import service as staff
    from tillit.staff.models import ApiToken
    from tillit.web import deps

    with sessions() as session, session.begin():
        plaintext = staff.create_token(
            session=session, name="shop", scopes=["customers:read"], actor=Actor.system("t")
        ).plaintext
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    with sessions() as session, session.begin():
        token_id = session.scalars(select_(ApiToken.id)).one()
        staff.revoke_token(session=session, token_id=token_id, actor=Actor.system("t"))
    assert client.get("/api/v1/customers", headers=headers).status_code == 200  # still cached
    client.app.state.token_cache.expire_all()  # the cache window passes
    assert deps.TOKEN_CACHE_SECONDS <= 10
    assert client.get("/api/v1/customers", headers=headers).status_code == 401
