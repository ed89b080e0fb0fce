"""Cache-Control: no-store on every page and answer that may hold personal data."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def ingrid(client: TestClient, admin_headers: dict[str, str]) -> int:
    body = {"name": "Ingrid Haugen", "identities": [{"type": "email", "value": "i@example.com"}]}
    created = client.post("/api/v1/customers", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _path(url: str) -> str:
    return urlsplit(url).path


def test_personal_pages_and_answers_are_never_stored(
    client: TestClient, admin_headers: dict[str, str], staff_csrf: str, ingrid: int
) -> None:
    link = client.post(f"/api/v1/customers/{ingrid}/links", json={}, headers=admin_headers)
    unsubscribe = client.post(
        f"/api/v1/customers/{ingrid}/unsubscribe-links",
        json={"scope": "purpose:marketing"},
        headers=admin_headers,
    )
    answers = {
        "staff page": client.get(f"/staff/customers/{ingrid}"),
        "preference centre": client.get(_path(link.json()["url"])),
        "unsubscribe page": client.get(_path(unsubscribe.json()["url"])),
        "dialogue page": client.get("/d/not-a-token", headers={"Accept": "text/html"}),
        "API answer": client.get(f"/api/v1/customers/{ingrid}", headers=admin_headers),
        "export": client.get(f"/api/v1/customers/{ingrid}/export", headers=admin_headers),
        "API problem": client.get("/api/v1/customers/999999", headers=admin_headers),
        "tracking answer": client.post("/v1/track", json={}),
    }
    for what, response in answers.items():
        assert response.headers.get("cache-control") == "no-store", (what, response.status_code)


def test_what_holds_no_personal_data_may_be_cached(client: TestClient) -> None:
    for path in ("/healthz", "/static/tillit.css", "/api/v1/openapi.json", "/problems/not-found"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "cache-control" not in response.headers, path
