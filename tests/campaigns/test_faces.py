"""The API and the CLI: draft, approve, plan; the list carries each campaign's funnel and its
hold-backs by reason; errors are problem details naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from typer.testing import CliRunner

from tillit.campaigns import service
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.service import CLICKED_EVENT, OPENED_EVENT
from tillit.cli.main import app as cli
from tillit.staff.scopes import CAMPAIGNS_APPROVE, CAMPAIGNS_DRAFT, CAMPAIGNS_READ

from .helpers import ACTOR, customer, definition, segment, views

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_the_api_drafts_approves_plans_and_lists_the_funnel(client, sessions, defaults, token_for):
    people = [
        customer(sessions, defaults, name="Anna Berg", preferences={"topics": ["offers"]}),
        customer(sessions, defaults, name="Bo Lind", consent=False),
        customer(sessions, defaults, name="Dan Ek"),
    ]
    segment(sessions, people)
    reader = {"Authorization": f"Bearer {token_for(CAMPAIGNS_READ)}"}
    drafter = {"Authorization": f"Bearer {token_for(CAMPAIGNS_DRAFT)}"}
    approver = {"Authorization": f"Bearer {token_for(CAMPAIGNS_APPROVE)}"}

    bad = client.post(
        "/api/v1/campaigns",
        json=definition(content={"en": {"subject": "Hi {nickname}", "body": "x"}}),
        headers=drafter,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "content.en.subject" in bad.text

    created = client.post("/api/v1/campaigns", json=definition(), headers=drafter)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    assert client.post("/api/v1/campaigns", json=definition(), headers=drafter).status_code == 409
    assert client.post("/api/v1/campaigns/spring-shoes/plan", headers=approver).status_code == 409
    assert client.post("/api/v1/campaigns/spring-shoes/approve", headers=drafter).status_code == 403
    approved = client.post("/api/v1/campaigns/spring-shoes/approve", headers=approver)
    assert approved.json()["status"] == "approved"

    planned = client.post("/api/v1/campaigns/spring-shoes/plan", headers=approver)
    assert planned.status_code == 200, planned.text
    assert planned.json()["held"] == {"no_consent": 1, "not_relevant": 1}

    listed = client.get("/api/v1/campaigns", headers=reader).json()
    assert [c["key"] for c in listed] == ["spring-shoes"]
    assert listed[0]["held"] == {"no_consent": 1, "not_relevant": 1}
    funnel = listed[0]["funnel"]
    assert (funnel["audience"], funnel["allowed"], funnel["relevant"], funnel["scheduled"]) == (
        3,
        2,
        1,
        1,
    )
    assert funnel["sent"] == 0 and funnel["opened"] == 0 and funnel["goal_reached"] == 0
    one = client.get("/api/v1/campaigns/spring-shoes", headers=reader).json()
    assert one["results"] is None  # no blast slice: nothing to compare
    assert client.get("/api/v1/campaigns/nope", headers=reader).status_code == 404


def test_the_cli_drafts_approves_plans_sends_and_shows_the_status(
    sessions, defaults, settings, tmp_path, monkeypatch, smtp_server
):
    inbox, port = smtp_server
    monkeypatch.setenv("TILLIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TILLIT_SMTP_PORT", str(port))
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TILLIT_SECRET_KEY", settings.secret_key)
    people = [customer(sessions, defaults, name="Anna Berg", preferences={"topics": ["offers"]})]
    segment(sessions, people)
    file = tmp_path / "spring.json"
    file.write_bytes(orjson.dumps(definition()))
    runner = CliRunner()
    created = runner.invoke(cli, ["campaigns", "create", str(file)])
    assert created.exit_code == 0, created.output
    assert runner.invoke(cli, ["campaigns", "plan", "spring-shoes"]).exit_code != 0  # a draft
    assert runner.invoke(cli, ["campaigns", "approve", "spring-shoes"]).exit_code == 0
    planned = runner.invoke(cli, ["campaigns", "plan", "spring-shoes"])
    assert planned.exit_code == 0, planned.output
    assert "scheduled 1" in planned.output
    sent = runner.invoke(cli, ["campaigns", "send", "spring-shoes"])
    assert sent.exit_code == 0, sent.output
    assert "sent 1" in sent.output and len(inbox.messages) == 1
    again = runner.invoke(cli, ["campaigns", "send", "spring-shoes"])
    assert "nothing was due" in again.output and len(inbox.messages) == 1
    status = runner.invoke(cli, ["campaigns", "status", "spring-shoes"])
    assert status.exit_code == 0 and "spring-shoes" in status.output
    assert "sent 1" in status.output and "delivered 1" in status.output
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(definition(key="Bad Key")))
    refused = runner.invoke(cli, ["campaigns", "create", str(bad)])
    assert refused.exit_code != 0 and "key" in refused.output


def test_the_funnel_counts_people_who_opened_and_clicked_this_campaigns_messages(
    sessions, defaults
):
    """Once per person, only this campaign's: tracked by the message's ``campaign`` property."""
    anna, bo, dan, eva = (
        customer(sessions, defaults, name=name) for name in ("Anna", "Bo", "Dan", "Eva")
    )
    segment(sessions, [anna, bo, dan, eva])
    with sessions() as session, session.begin():
        service.create_campaign(
            session=session, definition=parse_definition(definition()), actor=ACTOR
        )
    mine = {"campaign": "spring-shoes"}
    views(sessions, anna, "", 2, NOW, name=OPENED_EVENT, properties=mine)  # twice: one person
    views(sessions, anna, "", 1, NOW, name=CLICKED_EVENT, properties=mine)
    views(sessions, bo, "", 1, NOW, name=OPENED_EVENT, properties=mine)
    views(sessions, dan, "", 1, NOW, name=OPENED_EVENT, properties={"campaign": "other"})
    views(sessions, eva, "", 1, NOW, name=OPENED_EVENT, properties={})
    with sessions() as session:
        campaign = service.get_campaign(session=session, key="spring-shoes")
        funnel = service.funnel(session=session, campaign=campaign)
    assert (funnel.steps["opened"], funnel.steps["clicked"]) == (2, 1)
