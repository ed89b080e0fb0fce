"""Bad customer input is a 422 naming the field on SQLite and PostgreSQL alike, never a 500
and never a partial write: nulls, NUL characters, oversized traits, and search text that
must match itself (trait keys, LIKE wildcards)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tillit.customers.models import Customer, Identity
from tillit.customers.validation import NUL_REASON, TRAITS_MAX_BYTES

NUL = "\x00"


def create(client: TestClient, headers, **fields) -> dict:
    email = f"{re.sub(r'[^a-z0-9]', '-', fields.get('name', 'x').lower())}@example.com"
    body = {"identities": [{"type": "email", "value": email}], **fields}
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def fields_of(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


def count(sessions, model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("field", ["status", "locale", "time_zone"])
def test_patching_a_required_field_to_null_is_a_422(client, admin_headers, field):
    anna = create(client, admin_headers, name="anna")
    response = client.patch(
        f"/api/v1/customers/{anna['id']}", json={field: None}, headers=admin_headers
    )
    assert fields_of(response) == [field]
    cleared = client.patch(
        f"/api/v1/customers/{anna['id']}", json={"name": None}, headers=admin_headers
    )
    assert cleared.status_code == 200 and cleared.json()["name"] is None  # name may be cleared


def test_the_staff_form_refuses_a_201_character_name_inline(
    client, admin_headers, staff_csrf, sessions
):
    anna = create(client, admin_headers, name="anna")
    response = client.post(
        f"/staff/customers/{anna['id']}",
        data={"csrf_token": staff_csrf, "name": "A" * 201, "locale": "", "time_zone": ""},
    )
    assert response.status_code == 422
    assert "<form" in response.text and "name: String should have at most 200" in response.text
    with sessions() as session:
        assert session.get(Customer, anna["id"]).name == "anna"


NUL_CASES = {
    "name": {"name": f"An{NUL}na"},
    "identities[0].value": {"identities": [{"type": "user_id", "value": f"u{NUL}1"}]},
    "identities[0].source": {
        "identities": [{"type": "user_id", "value": "u1", "source": f"shop{NUL}"}]
    },
    "traits.city": {"traits": {"city": f"Aar{NUL}hus"}},
    "traits.ci\\u0000ty": {"traits": {f"ci{NUL}ty": "Aarhus"}},
    "traits.address.lines[1]": {"traits": {"address": {"lines": ["Vej 1", f"{NUL}"]}}},
}


@pytest.mark.parametrize("field", NUL_CASES)
def test_a_nul_character_is_refused_naming_the_field(client, admin_headers, sessions, field):
    body = {"identities": [{"type": "email", "value": "nul@example.com"}], **NUL_CASES[field]}
    response = client.post("/api/v1/customers", json=body, headers=admin_headers)
    assert fields_of(response) == [field]
    assert response.json()["errors"][0]["message"].endswith(NUL_REASON)
    assert count(sessions, Customer) == 0 and count(sessions, Identity) == 0


def test_a_nul_character_is_refused_in_patches_identities_and_searches(client, admin_headers):
    anna = create(client, admin_headers, name="anna")
    url = f"/api/v1/customers/{anna['id']}"
    patch = client.patch(url, json={"traits": {"note": NUL}}, headers=admin_headers)
    assert fields_of(patch) == ["traits.note"]
    added = client.post(
        f"{url}/identities", json={"type": "user_id", "value": NUL}, headers=admin_headers
    )
    assert fields_of(added) == ["value"]
    lookup = client.get("/api/v1/identities/user_id/a%00b", headers=admin_headers)
    assert fields_of(lookup) == ["value"]
    for params, field in (
        ({"q": f"an{NUL}"}, "q"),
        ({"trait": f"city=A{NUL}"}, "trait"),
        ({"trait": f"ci{NUL}ty=A"}, "trait"),
        ({"identity": f"user_id:{NUL}"}, "identity"),
    ):
        response = client.get("/api/v1/customers", params=params, headers=admin_headers)
        assert fields_of(response) == [field]
        assert response.json()["errors"][0]["message"] == NUL_REASON
    staff = client.get("/staff/customers", params={"q": NUL}, headers={**admin_headers})
    assert staff.status_code in (401, 422)  # not signed in as staff here: never a 500


def test_traits_have_a_size_key_and_depth_limit(client, admin_headers, sessions):
    big = {"blob": "x" * TRAITS_MAX_BYTES}
    refused = client.post(
        "/api/v1/customers",
        json={"traits": big, "identities": [{"type": "email", "value": "big@example.com"}]},
        headers=admin_headers,
    )
    assert fields_of(refused) == ["traits"]
    assert str(TRAITS_MAX_BYTES) in refused.json()["errors"][0]["message"]
    long_key = {"k" * 101: 1}
    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    for traits, field in ((long_key, f"traits.{'k' * 101}"), (deep, "traits.a.b.c.d.e")):
        response = client.post(
            "/api/v1/customers",
            json={"traits": traits, "identities": [{"type": "email", "value": "t@example.com"}]},
            headers=admin_headers,
        )
        assert fields_of(response) == [field]
    assert count(sessions, Customer) == 0
    # Patches merge: each half fits, the two together do not, and nothing is written.
    anna = create(client, admin_headers, name="anna", traits={"a": "x" * (TRAITS_MAX_BYTES // 2)})
    merged = client.patch(
        f"/api/v1/customers/{anna['id']}",
        json={"traits": {"b": "y" * (TRAITS_MAX_BYTES // 2)}},
        headers=admin_headers,
    )
    assert fields_of(merged) == ["traits"]
    with sessions() as session:
        assert set(session.get(Customer, anna["id"]).traits) == {"a"}


def search(client, headers, **params) -> list[str | None]:
    response = client.get("/api/v1/customers", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(item["name"] or "" for item in response.json()["items"])


def test_a_trait_key_is_one_literal_key_never_a_path(client, admin_headers):
    create(client, admin_headers, name="nested", traits={"address": {"city": "Oslo"}})
    create(client, admin_headers, name="quoted", traits={'address"."city': "Oslo"})
    create(client, admin_headers, name="number", traits={"size": 42, "vip": True})
    assert search(client, admin_headers, trait='")||1--=x') == []
    assert search(client, admin_headers, trait='address"."city=Oslo') == ["quoted"]
    assert search(client, admin_headers, trait="address.city=Oslo") == []
    assert search(client, admin_headers, trait="size=42") == ["number"]
    assert search(client, admin_headers, trait="vip=true") == ["number"]
    assert search(client, admin_headers, trait="$.size=42") == []


def test_the_search_box_matches_wildcards_literally(client, admin_headers):
    for name in ("Ann_a", "Annxa", "100% wool", "1000 wool", "back\\slash", "backslash"):
        create(client, admin_headers, name=name)
    assert search(client, admin_headers, q="n_a") == ["Ann_a"]
    assert search(client, admin_headers, q="0%") == ["100% wool"]
    assert search(client, admin_headers, q="k\\s") == ["back\\slash"]
