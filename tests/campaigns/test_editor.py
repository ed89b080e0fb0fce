"""The staff editor is a plain form: an analyst drafts a campaign with it, a wrong field comes
back on the same page with what to change (nothing saved), and only an admin approves."""

from __future__ import annotations

from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.campaigns.models import Campaign

from .helpers import segment

FORM = {
    "key": "autumn-walks",
    "name": "Autumn walks",
    "purpose": "marketing",
    "kind": "marketing",
    "topics": "offers",
    "segment": "everyone",
    "channels": "email",
    "channel": "preferred",
    "subject_en": "Hi {first_name}",
    "body_en": "New walking boots.",
    "fallback_language": "en",
    "schedule_type": "once",
    "min_score": "0.5",
    "topic_weight": "0.5",
    "window_days": "7",
    "signal_event": "Product Viewed",
    "signal_property": "category",
    "signal_value": "outdoor",
    "label_en": "looked at walking boots",
    "blast_share": "0.1",
    "holdout_share": "0.05",
    "min_days_between": "7",
}


def test_an_analyst_drafts_with_the_form_and_errors_come_back_named(client, sessions, staff_as):
    segment(sessions, [])
    _, csrf = staff_as("analyst")
    wrong = client.post(
        "/staff/campaigns",
        data={**FORM, "csrf_token": csrf, "fallback_language": "", "subject_en": "Hi {nick}"},
    )
    assert wrong.status_code == 422
    assert "content.en.subject: uses {nick}" in wrong.text
    no_fallback = client.post(
        "/staff/campaigns", data={**FORM, "csrf_token": csrf, "fallback_language": ""}
    )
    assert no_fallback.status_code == 422
    assert "content: has no text in da, sv, nb, nl" in no_fallback.text
    assert 'value="Autumn walks"' in wrong.text  # what was typed stays
    with sessions() as session:
        assert session.scalar(select(Campaign.id)) is None

    made = client.post(
        "/staff/campaigns", data={**FORM, "csrf_token": csrf}, follow_redirects=False
    )
    assert made.status_code == 303 and made.headers["location"] == "/staff/campaigns/autumn-walks"
    page = client.get("/staff/campaigns/autumn-walks")
    assert page.status_code == 200
    assert "Approve this campaign" not in page.text  # analysts draft; admins approve
    assert "Product Viewed" in page.text and "Hi Nina" in page.text
    refused = client.post("/staff/campaigns/autumn-walks/approve", data={"csrf_token": csrf})
    assert refused.status_code == 403
    with sessions() as session:
        campaign = session.scalar(select(Campaign))
        assert campaign.definition["relevance"]["signals"][0]["value"] == "outdoor"
        assert campaign.definition["blast_share"] == 0.1
        actions = set(session.scalars(select(AuditEntry.action)))
    assert "campaign.create" in actions
