"""The embeddable widget: one static script under the strict CSP, and its JSON endpoint,
which follows the same fatigue rules as every other channel."""

from __future__ import annotations

from tillit.dialogues.widget import widget_token


def test_widget_script_is_static_and_csp_safe(client):
    response = client.get("/static/tillit-dialogue.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "eval(" not in response.text and "innerHTML" not in response.text


def test_widget_asks_once_then_respects_the_cool_down(client, settings, make_customer):
    customer = make_customer(email="widget@example.com", locale="nl")
    token = widget_token(customer, settings.secret_key)
    first = client.get(f"/api/v1/dialogues/widget/{token}/next", params={"language": "nl"})
    assert first.status_code == 200, first.text
    question = first.json()
    assert question["language"] == "nl" and question["reason"].startswith("asked because")
    assert question["submit_label"] == "Antwoord versturen"  # the button speaks Dutch too
    again = client.get(f"/api/v1/dialogues/widget/{token}/next")
    assert again.status_code in (200, 204)
    if again.status_code == 200:  # the same open ask, not a second question
        assert again.json()["ask_id"] == question["ask_id"]
    if question["scale"]:
        answer = {"score": str(question["scale"][-1])}
    elif question["options"]:
        answer = {"choices": question["options"][0]["value"]}
    else:
        answer = {"text": "Meer keuze in de winkel, graag"}
    answered = client.post(
        f"/d/{question['token']}", data=answer, headers={"accept": "application/json"}
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    after = client.get(f"/api/v1/dialogues/widget/{token}/next")
    assert after.status_code == 204  # the 14-day cool-down now holds on every channel
    forged = client.get(f"/api/v1/dialogues/widget/{token[:-2]}xx/next")
    assert forged.status_code in (401, 403, 404)


def test_only_listed_sites_may_call_the_widget_from_their_pages(settings, make_customer):
    from fastapi.testclient import TestClient

    from tillit.app import create_app

    app = create_app(settings.model_copy(update={"widget_origins": "https://shop.example.com"}))
    customer = make_customer(email="cors@example.com")
    url = f"/api/v1/dialogues/widget/{widget_token(customer, settings.secret_key)}/next"
    with TestClient(app) as client:
        allowed = client.options(
            url,
            headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers.get("access-control-allow-origin") == "https://shop.example.com"
        other = client.get(url, headers={"Origin": "https://evil.invalid"})
        assert "access-control-allow-origin" not in other.headers
    app.state.engine.dispose()
