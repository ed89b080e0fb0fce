"""Feedback tied to a customer who does not exist is a 422 naming the item, not a 500."""

from __future__ import annotations

from sqlalchemy import func, select

from tillit.feedback.models import Feedback


def test_feedback_for_an_unknown_customer_is_a_422_and_stores_nothing(
    client, admin_headers, sessions
):
    known = client.post(
        "/api/v1/customers",
        json={"identities": [{"type": "email", "value": "kendt@example.com"}]},
        headers=admin_headers,
    ).json()["id"]
    body = {
        "items": [
            {"text": "Fine socks", "customer_id": known},
            {"text": "Late parcel", "customer_id": known + 1000},
        ]
    }
    response = client.post("/api/v1/insight/feedback", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["items[1].customer_id"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 0
    stored = client.post(
        "/api/v1/insight/feedback", json={"items": body["items"][:1]}, headers=admin_headers
    )
    assert stored.status_code == 201, stored.text


def test_a_nul_character_in_feedback_is_a_422_on_both_databases(client, admin_headers):
    body = {"items": [{"text": "Fine socks"}, {"text": "Late\x00 parcel", "source": "mail\x00"}]}
    response = client.post("/api/v1/insight/feedback", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["items[1].text", "items[1].source"]
