"""The promises on their faces: the API, the CLI, the public page in five languages, the staff
reality check and the customer's own record with the button that opens a case."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.promises.helpers import CAMPAIGN, T0, TEAM, build
from tillit.analytics.engine import connect
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.cli.main import app
from tillit.config import Settings
from tillit.consent.links import create_link
from tillit.dialogues.models import Case
from tillit.i18n import LANGUAGES, translations
from tillit.promises.models import PromiseBreach
from tillit.promises.store import measure_promises
from tillit.storage.session import SessionFactory

AS_OF = T0 + timedelta(days=45)


@pytest.fixture
def measured(sessions: SessionFactory, settings: Settings, tmp_path: Path) -> dict[str, int]:
    with sessions() as session, session.begin():
        world = build(session)
    data_dir = tmp_path / "data"
    refresh_snapshots(sessions=sessions, data_dir=data_dir)
    local = settings.model_copy(update={"data_dir": data_dir})
    measure_promises(
        sessions=sessions,
        settings=local,
        model=lambda: Model(connect(local, "duckdb"), data_dir),
        as_of=AS_OF,
    )
    return world.customers


def test_the_api_lists_each_promise_with_its_kept_share_and_broken_count(
    client: TestClient, admin_headers: dict[str, str], measured: dict[str, int]
) -> None:
    listed = client.get("/api/v1/promises?lang=nb", headers=admin_headers)
    assert listed.status_code == 200, listed.text
    by_key = {p["key"]: p for p in listed.json()}
    assert len(by_key) == 8
    quiet = by_key["quiet-hours"]
    assert quiet["broken"] == 1 and quiet["total"] == 0  # the window ends today, not in 2026
    assert quiet["weeks"] and sum(w["total"] for w in quiet["weeks"]) == 3
    assert quiet["text"].startswith("I de stille timene dine")
    assert by_key["message-caps"]["text"].endswith(
        "dette: 2 via e-post per uke, 1 via sms per uke."
    )
    breaches = client.get("/api/v1/promises/data-requests/breaches", headers=admin_headers)
    assert [b["evidence_kind"] for b in breaches.json()] == ["request"]
    assert breaches.json()[0]["customer_id"] == measured["ole"]


def test_promises_are_changed_through_the_api_with_problems_for_wrong_input(
    client: TestClient, admin_headers: dict[str, str], sessions: SessionFactory
) -> None:
    client.get("/api/v1/promises", headers=admin_headers)  # seeds the catalogue
    wrong = client.patch(
        "/api/v1/promises/complaint-first-reply",
        json={"parameters": {"hours": 0}},
        headers=admin_headers,
    )
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert "parameters.hours" in wrong.text
    changed = client.patch(
        "/api/v1/promises/complaint-first-reply",
        json={"parameters": {"hours": 12}, "target": 0.98},
        headers=admin_headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["target"] == 0.98 and "12 hours" in changed.json()["text"]
    made = client.post(
        "/api/v1/promises",
        json={"key": "fast-requests", "kind": "data_request", "parameters": {"days": 7}},
        headers=admin_headers,
    )
    assert made.status_code == 201, made.text
    again = client.post(
        "/api/v1/promises",
        json={"key": "fast-requests", "kind": "data_request", "parameters": {"days": 7}},
        headers=admin_headers,
    )
    assert again.status_code == 409
    unknown = client.post(
        "/api/v1/promises", json={"key": "x", "kind": "nonsense"}, headers=admin_headers
    )
    assert unknown.status_code == 422
    assert client.get("/api/v1/promises/nope", headers=admin_headers).status_code == 404
    with sessions() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"promise.update", "promise.create"} <= actions


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_public_page_answers_in_every_language(
    client: TestClient, measured: dict[str, int], language: str
) -> None:
    page = client.get(f"/promises?lang={language}")
    assert page.status_code == 200
    assert f'<html lang="{language}"' in page.text
    gettext = translations(language).gettext
    assert gettext("Our promises") in page.text
    assert gettext("Nothing to measure yet.") in page.text  # 2026's records are 90 days old


def test_the_customer_sees_their_record_and_opens_a_case_once(
    client: TestClient, sessions: SessionFactory, settings: Settings, measured: dict[str, int]
) -> None:
    ole = measured["ole"]
    with sessions() as session, session.begin():
        token = create_link(
            session=session,
            customer_id=ole,
            secret_key=settings.secret_key,
            actor=Actor.system("tests"),
        ).token
    page = client.get(f"/p/{token}?lang=nl")
    assert page.status_code == 200
    section = page.text[page.text.index('id="promises"') :]
    assert "Onze beloften aan jou" in page.text
    # late first reply and resolution, a slow data request, marketing after the withdrawal, a
    # question too soon
    assert section.count("Het spijt ons") == 5
    with sessions() as session:
        breach = session.scalars(
            select(PromiseBreach).where(PromiseBreach.customer_id == ole).order_by(PromiseBreach.id)
        ).first()
    assert breach is not None
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {"csrf_token": csrf.group(1), "customer_id": str(ole), "lang": "nl"}
    forged = client.post(
        f"/p/{token}/promises/{breach.id}/case",
        data={**form, "csrf_token": "wrong"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    opened = client.post(f"/p/{token}/promises/{breach.id}/case", data=form, follow_redirects=False)
    assert opened.status_code == 303
    with sessions() as session:
        stored = session.get(PromiseBreach, breach.id)
        assert stored is not None and stored.case_id is not None
        case = session.get(Case, stored.case_id)
        assert case is not None and case.customer_id == ole and case.rule.startswith("promise:")
    after = client.get(opened.headers["location"])
    assert "We hebben er een zaak over geopend" in after.text
    twice = client.post(f"/p/{token}/promises/{breach.id}/case", data=form)
    assert twice.status_code == 409


def test_the_staff_page_shows_promised_against_measured(
    client: TestClient, staff_csrf: str, measured: dict[str, int]
) -> None:
    page = client.get("/staff/promises")
    assert page.status_code == 200
    assert "Promised against measured" in page.text and "<svg" in page.text
    assert "Nothing but transactional messages in quiet hours" in page.text
    drill = client.get("/staff/promises/quiet-hours")
    assert drill.status_code == 200
    assert "Message sent" in drill.text and "Each time it was broken" in drill.text
    assert "first_reply" not in page.text  # plain words, not codes


def test_each_broken_instance_says_where_it_broke(
    client: TestClient, admin_headers: dict[str, str], staff_csrf: str, measured: dict[str, int]
) -> None:
    """The campaign that planned the message, the team (the case's assignee) and the channel:
    in the API, and on the staff page per instance and counted."""
    stops = client.get("/api/v1/promises/marketing-stops/breaches", headers=admin_headers)
    assert stops.status_code == 200, stops.text
    [breach] = stops.json()
    assert (breach["campaign"], breach["campaign_name"]) == CAMPAIGN
    assert (breach["team"], breach["channel"]) == (None, "email")
    replies = client.get("/api/v1/promises/complaint-first-reply/breaches", headers=admin_headers)
    assert [(b["campaign"], b["team"]) for b in replies.json()] == [(None, TEAM)]
    where = client.get("/api/v1/promises/marketing-stops/where-broken", headers=admin_headers)
    assert where.status_code == 200, where.text
    assert where.json() == {
        "campaign": [{"value": CAMPAIGN[0], "name": CAMPAIGN[1], "broken": 1}],
        "team": [{"value": None, "name": None, "broken": 1}],
        "channel": [{"value": "email", "name": None, "broken": 1}],
    }
    assert client.get("/api/v1/promises/nope/where-broken", headers=admin_headers).status_code == (
        404
    )
    assert client.get("/api/v1/promises/marketing-stops/where-broken").status_code == 401

    page = client.get("/staff/promises/marketing-stops")
    assert page.status_code == 200
    where_part = page.text[page.text.index("Where it broke") : page.text.index("Each time")]
    assert f'<a href="/staff/campaigns/{CAMPAIGN[0]}">{CAMPAIGN[1]}</a>' in where_part
    assert "E-mail" in where_part and "email" not in where_part.replace("/campaigns/", "")
    listed = page.text[page.text.index("Each time it was broken") :]
    assert CAMPAIGN[1] in listed and "Offers" in listed  # the topic by its name
    cases = client.get("/staff/promises/complaint-first-reply")
    where_part = cases.text[cases.text.index("Where it broke") : cases.text.index("Each time")]
    assert TEAM in where_part and "NPS score of 6 or less" in cases.text
    assert "nps&lt;=6" not in cases.text and "None" not in cases.text


def test_the_cli_lists_and_measures(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path, engine
) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TILLIT_ENV", "test")
    runner = CliRunner()
    measured = runner.invoke(app, ["promises", "measure", "--engine", "duckdb", "--format", "json"])
    assert measured.exit_code == 0, measured.output
    assert len(orjson.loads(measured.output)["measured"]) == 8
    listed = runner.invoke(app, ["promises", "list", "--format", "json", "--lang", "da"])
    assert listed.exit_code == 0, listed.output
    rows = orjson.loads(listed.output)
    assert rows[0]["key"] == "complaint-first-reply" and rows[0]["text"].startswith("Vi svarer")
    changed = runner.invoke(app, ["promises", "set", "quiet-hours", "--target", "2"])
    assert changed.exit_code == 1 and "target" in changed.output


def test_the_staff_home_summarises_the_promises(
    client: TestClient, staff_csrf: str, admin_headers: dict[str, str]
) -> None:
    empty = client.get("/staff")
    assert "Our promises, last 28 days" in empty.text and "Nothing measured yet" in empty.text


def test_staff_bind_an_indicator_to_a_purpose_and_see_it_reported(
    client: TestClient, admin_headers: dict[str, str], measured: dict[str, int]
) -> None:
    wrong = client.put(
        "/api/v1/value-exchange/marketing", json={"indicator": "vibes"}, headers=admin_headers
    )
    assert wrong.status_code == 422
    unknown = client.put(
        "/api/v1/value-exchange/astrology",
        json={"indicator": "relevant_share"},
        headers=admin_headers,
    )
    assert unknown.status_code == 404
    bound = client.put(
        "/api/v1/value-exchange/marketing",
        json={"indicator": "relevant_share"},
        headers=admin_headers,
    )
    assert bound.status_code == 200, bound.text
    marketing = next(v for v in bound.json() if v["purpose_key"] == "marketing")
    # Every marketing message planned in the world was allowed: none held as not relevant.
    assert marketing["indicator"] == "relevant_share" and marketing["value"] == 1.0
    research = next(v for v in bound.json() if v["purpose_key"] == "research")
    assert research["indicator"] is None and research["value"] is None
