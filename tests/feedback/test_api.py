"""Feedback in and themes out over HTTP, on the stored demo themes."""

from __future__ import annotations

from tillit.audit.service import Actor
from tillit.feedback.demo import load_demo_feedback


def test_feedback_joins_existing_themes_and_themes_are_listed(client, sessions, token_for, e5):
    with sessions() as session, session.begin():
        load_demo_feedback(session=session, actor=Actor.system("tests"), embedder=e5)
    writer = {"Authorization": f"Bearer {token_for('insight:write')}"}
    reader = {"Authorization": f"Bearer {token_for('insight:read')}"}
    themes = client.get("/api/v1/insight/themes", headers=reader).json()
    assert len(themes) >= 5 and all(t["volume"] > 0 for t in themes)
    body = {
        "items": [
            {"text": "Pakken kom en uge for sent, igen", "locale": "da-DK", "nps": 2},
            {"text": "Het pakket kwam veel te laat aan", "locale": "nl-NL"},
        ]
    }
    created = client.post("/api/v1/insight/feedback", json=body, headers=writer)
    assert created.status_code == 201, created.text
    first, second = created.json()
    assert (first["language"], second["language"]) == ("da", "nl")
    # The shipped head leans negative here but not past its neutral class (-0.28, neutral).
    assert first["sentiment_score"] < -0.2
    assert first["theme_id"] is not None and first["theme_id"] == second["theme_id"]
    bad = client.post(
        "/api/v1/insight/feedback", json={"items": [{"text": "", "nps": 12}]}, headers=writer
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"items[0].text", "items[0].nps"}
    assert client.post("/api/v1/insight/feedback", json=body, headers=reader).status_code == 403
