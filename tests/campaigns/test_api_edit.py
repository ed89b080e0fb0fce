"""Editing a draft through the API: ``PUT /api/v1/campaigns/{key}`` replaces its definition with
the same checks as drafting; only a draft changes; refusals are problem details in words and
write nothing; the change is audited with the fields that changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.campaigns.models import Campaign
from tillit.staff.scopes import CAMPAIGNS_APPROVE, CAMPAIGNS_DRAFT, CAMPAIGNS_READ

from .helpers import definition, segment

URL = "/api/v1/campaigns/spring-shoes"


@pytest.fixture
def drafted(client, sessions, token_for):
    segment(sessions, [])
    segment(sessions, [], key="runners")
    drafter = {"Authorization": f"Bearer {token_for(CAMPAIGNS_DRAFT)}"}
    created = client.post("/api/v1/campaigns", json=definition(), headers=drafter)
    assert created.status_code == 201, created.text
    return drafter


def _stored(sessions) -> tuple[dict, list[AuditEntry]]:
    with sessions() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "spring-shoes"))
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "campaign.update")
                .order_by(AuditEntry.id)
            )
        )
        session.expunge_all()
    return campaign.definition, entries


def _field_of(answer) -> list[str]:
    assert answer.headers["content-type"].startswith("application/problem+json")
    return [error["field"] for error in answer.json()["errors"]]


def test_a_draft_is_replaced_and_the_change_audited(client, sessions, drafted):
    changed = definition(name="Spring shoes, again", segment="runners", min_days_between=14)
    answer = client.put(URL, json=changed, headers=drafted)
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Spring shoes, again"
    assert answer.json()["status"] == "draft"
    stored, entries = _stored(sessions)
    assert stored["segment"] == "runners" and stored["min_days_between"] == 14
    assert len(entries) == 1
    assert entries[0].after["changed"] == ["min_days_between", "name", "segment"]
    assert entries[0].before["definition"] == {
        "min_days_between": 7,
        "name": "Spring running shoes",
        "segment": "everyone",
    }
    assert entries[0].after["definition"]["segment"] == "runners"
    assert entries[0].actor_type == "token"


def test_refusals_name_the_field_and_write_nothing(client, sessions, drafted, token_for):
    before, _ = _stored(sessions)

    unknown = client.put("/api/v1/campaigns/nope", json=definition(key="nope"), headers=drafted)
    assert unknown.status_code == 404
    assert "nope" in unknown.json()["detail"]

    other_key = client.put(URL, json=definition(key="autumn"), headers=drafted)
    assert other_key.status_code == 422
    assert _field_of(other_key) == ["key"]
    assert "autumn" in other_key.text and "spring-shoes" in other_key.text

    broken = client.put(
        URL,
        json=definition(content={"en": {"subject": "Hi {nickname}", "body": "x"}}),
        headers=drafted,
    )
    assert broken.status_code == 422
    assert "content.en.subject" in _field_of(broken)

    no_fallback = client.put(
        URL, json=definition(content={"en": {"subject": "Hi", "body": "x"}}), headers=drafted
    )
    assert no_fallback.status_code == 422
    assert _field_of(no_fallback) == ["content"]

    no_segment = client.put(URL, json=definition(segment="nobody"), headers=drafted)
    assert no_segment.status_code == 422
    assert _field_of(no_segment) == ["segment"]

    reader = {"Authorization": f"Bearer {token_for(CAMPAIGNS_READ)}"}
    refused = client.put(URL, json=definition(name="Mine now"), headers=reader)
    assert refused.status_code == 403
    assert client.put(URL, json=definition(name="Mine now")).status_code == 401

    after, entries = _stored(sessions)
    assert after == before
    assert entries == []


def test_an_approved_campaign_does_not_change(client, sessions, drafted, token_for):
    approver = {"Authorization": f"Bearer {token_for(CAMPAIGNS_APPROVE)}"}
    assert client.post(f"{URL}/approve", headers=approver).status_code == 200
    before, _ = _stored(sessions)
    answer = client.put(URL, json=definition(name="Too late"), headers=drafted)
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "only a draft can be changed" in answer.json()["detail"]
    after, entries = _stored(sessions)
    assert after == before and entries == []
