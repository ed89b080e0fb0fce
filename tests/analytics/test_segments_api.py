"""The segments API: create, preview, update (a new version), read, members by page, one
membership, CSV export; problems for bad input."""

from __future__ import annotations

from tests.analytics.test_segment_store import _grant, _refresh
from tillit.analytics.snapshots import refresh_snapshots
from tillit.config import Settings

NORDIC = {"kind": "country", "countries": ["NO", "SE"]}


def test_segments_over_http(client, token_for, sessions, defaults, settings: Settings, tmp_path):
    from tests.analytics.test_segment_store import _customer

    ola = _customer(sessions, defaults, "ola.api@example.com", "NO")
    siv = _customer(sessions, defaults, "siv.api@example.com", "SE")
    kai = _customer(sessions, defaults, "kai.api@example.com", "NO")
    _grant(sessions, ola)
    _grant(sessions, siv)
    headers = {"Authorization": f"Bearer {token_for('segments:read', 'segments:write')}"}
    refresh_snapshots(sessions=sessions, data_dir=settings.data_dir)

    preview = client.post(
        "/api/v1/segments/preview",
        json={"purpose": "marketing", "definition": NORDIC},
        headers=headers,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["left_out"] >= 1 and preview.json()["size"] >= 2

    bad = client.post(
        "/api/v1/segments",
        json={
            "key": "nordic",
            "name": "Nordic",
            "purpose": "marketing",
            "definition": {"kind": "events", "event": "x", "at_least": 0},
        },
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "definition.events.at_least" in bad.text

    made = client.post(
        "/api/v1/segments",
        json={"key": "nordic", "name": "Nordic", "purpose": "marketing", "definition": NORDIC},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1
    again = client.post(
        "/api/v1/segments",
        json={"key": "nordic", "name": "Nordic", "purpose": "marketing", "definition": NORDIC},
        headers=headers,
    )
    assert again.status_code == 409
    _refresh(sessions, settings, settings.data_dir)

    page = client.get("/api/v1/segments/nordic/members?limit=1", headers=headers).json()
    assert len(page["members"]) == 1 and page["next_after"] is not None
    rest = client.get(
        f"/api/v1/segments/nordic/members?limit=1&after={page['next_after']}", headers=headers
    ).json()
    ids = {m["customer_id"] for m in page["members"] + rest["members"]}
    assert {ola, siv} <= ids and kai not in ids
    one = client.get(f"/api/v1/segments/nordic/members/{kai}", headers=headers).json()
    assert one == {"customer_id": kai, "member": False}
    csv = client.get("/api/v1/segments/nordic/export", headers=headers)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "customer_id,entered_at"
    assert str(ola) in csv.text and str(kai) not in {
        line.split(",")[0] for line in csv.text.splitlines()
    }

    updated = client.put(
        "/api/v1/segments/nordic",
        json={
            "name": "Norway",
            "purpose": "marketing",
            "definition": {"kind": "country", "countries": ["NO"]},
        },
        headers=headers,
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    listed = client.get("/api/v1/segments", headers=headers).json()
    assert [s["key"] for s in listed] == ["nordic"]
    assert client.get("/api/v1/segments/nope", headers=headers).status_code == 404
