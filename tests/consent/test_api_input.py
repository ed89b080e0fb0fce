"""NUL in the consent API's text fields is a 422 naming the field on both databases (it was a
500 on PostgreSQL, whose text cannot hold it)."""

from __future__ import annotations

from tillit.customers.validation import NUL_REASON


def test_nul_in_consent_and_unsubscribe_fields_is_a_422(client, anna, admin_headers) -> None:
    url = f"/api/v1/customers/{anna}"
    for path, body, field in (
        ("consents", {"purpose": "market\x00ing", "decision": "granted"}, "purpose"),
        ("consents", {"purpose": "marketing", "decision": "granted", "channel": "\x00"}, "channel"),
        ("unsubscribe-links", {"scope": "topic:news\x00"}, "scope"),
    ):
        response = client.post(f"{url}/{path}", json=body, headers=admin_headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["field"], error["message"]) == (field, NUL_REASON)
