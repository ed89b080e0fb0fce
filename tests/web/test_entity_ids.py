"""Ids a database cannot hold (above 2**63 - 1, zero, negative) are 404 or 422 problems on
every route, API and page alike, never a 500: one type (EntityId) bounds them all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

TOO_BIG = (2**63, 2**64)
NOT_IDS = (*TOO_BIG, 0, -1)


def routes(candidates: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every (full path, route), walking into included routers."""
    for route in candidates:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def int_path_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    found = []
    for path, route in routes(app.routes):
        names = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        found += [(method, path, names) for method in sorted(route.methods or ()) if names]
    return found


def test_the_walk_finds_the_id_routes(client: TestClient) -> None:
    found = {(method, path) for method, path, _ in int_path_routes(client.app)}
    assert ("GET", "/api/v1/customers/{customer_id}") in found
    assert ("POST", "/staff/insight/themes/{theme_id}/merge") in found
    assert len(found) >= 20


def quiet(client: TestClient) -> TestClient:
    """The same app and signed-in cookies, answering a 500 instead of raising it."""
    answering = TestClient(client.app, raise_server_exceptions=False)
    answering.cookies = client.cookies
    return answering


def test_every_id_in_a_path_is_a_404_or_a_422_naming_it(client, admin_headers, staff_csrf):
    wrong: list[str] = []
    client = quiet(client)
    for method, path, names in int_path_routes(client.app):
        for value in NOT_IDS:
            url = path
            for name in names:
                url = url.replace(f"{{{name}}}", str(value))
            url = url.replace("{action}", "close")  # the one other path parameter among them
            body: dict[str, Any] = (
                {"data": {"csrf_token": staff_csrf}}
                if path.startswith("/staff/")
                else {"json": {}}
                if method in {"POST", "PATCH"}
                else {}
            )
            headers = {**admin_headers, "Accept": "application/json"}
            response = client.request(method, url, headers=headers, **body)
            named = response.status_code == 422 and any(n in response.text for n in names)
            if not (response.status_code == 404 or named):
                wrong.append(f"{method} {url}: {response.status_code} {response.text[:120]}")
    assert wrong == []


@pytest.mark.parametrize("value", TOO_BIG)
def test_ids_in_bodies_are_422_naming_the_field(client, admin_headers, value):
    client = quiet(client)
    intent = {"purpose": "marketing", "kind": "marketing", "channel": "email"}
    cases = {
        "/api/v1/contact/decide": ({**intent, "customer_id": value}, "customer_id"),
        "/api/v1/contact/decide-audience": (
            {**intent, "customer_ids": [1, value]},
            "customer_ids[1]",
        ),
        "/api/v1/contact/sends": (
            {"customer_id": 1, "channel": "email", "kind": "marketing", "decision_id": value},
            "decision_id",
        ),
        "/api/v1/insight/feedback": (
            {"items": [{"text": "Fine socks", "customer_id": value}]},
            "items[0].customer_id",
        ),
    }
    for url, (body, field) in cases.items():
        response = client.post(url, json=body, headers=admin_headers)
        assert response.status_code == 422, (url, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], url


@pytest.mark.parametrize("q", [str(2**63), str(2**64), "9" * 40, "²"])  # ² is a digit, not decimal
def test_a_long_number_in_the_search_box_finds_nothing(client, admin_headers, staff_csrf, q):
    client = quiet(client)
    assert client.get("/api/v1/customers", params={"q": q}, headers=admin_headers).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert client.get("/staff/customers", params={"q": q}).status_code == 200
