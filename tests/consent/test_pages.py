from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tillit.consent.ledger import current_consents, history
from tillit.consent.links import create_link
from tillit.consent.models import PersonalLink
from tillit.consent.preferences import current_preferences, preference_history
from tillit.consent.unsubscribe import unsubscribe_token
from tillit.contact.log import log_decision
from tillit.storage.base import utcnow

from .conftest import ACTOR, SECRET


def _link(session: Session, customer_id: int, days: int = 30) -> str:
    issued = create_link(
        session=session, customer_id=customer_id, secret_key=SECRET, actor=ACTOR, days=days
    )
    session.commit()
    return issued.token


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_centre_shows_the_customers_data_in_their_language(client, session, anna) -> None:
    log_decision(
        session=session,
        customer_id=anna,
        channel="sms",
        kind="marketing",
        outcome="denied",
        reasons=["quiet_hours"],
    )
    session.commit()
    page = client.get(f"/p/{_link(session, anna)}")
    assert page.status_code == 200
    assert page.headers["content-language"] == "da"
    assert "anna@example.com" in page.text
    assert "Hvad du får til gengæld:" in page.text  # Danish value statement label
    assert "Det var inden for dine stille timer." in page.text  # held back, and why
    for code in ("quiet_hours", ">email<", ">phone<", "da-DK", "Europe/Copenhagen<"):
        assert code not in page.text  # plain, translated words instead of codes
    assert "<dd>Dansk</dd>" in page.text and ">Telefon<" in page.text
    assert "<script" not in page.text
    dutch = client.get(f"/p/{_link(session, anna)}?lang=nl")
    assert "Wat je ervoor terugkrijgt:" in dutch.text


def test_withdraw_and_preferences_through_forms(client, session, anna) -> None:
    token = _link(session, anna)
    page = client.get(f"/p/{token}")
    csrf = _form_token(page.text)
    granted = client.post(
        f"/p/{token}/consent",
        data={"csrf_token": csrf, "customer_id": anna, "purpose": "marketing", "decision": "grant"},
        follow_redirects=False,
    )
    assert granted.status_code == 303
    client.post(
        f"/p/{token}/consent",
        data={
            "csrf_token": csrf,
            "customer_id": anna,
            "purpose": "marketing",
            "decision": "withdraw",
        },
    )
    saved = client.post(
        f"/p/{token}/preferences",
        data={
            "csrf_token": csrf,
            "customer_id": anna,
            "channel_email": "on",
            "cap_email_count": "1",
            "cap_email_period": "week",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "topics": ["news", "events"],
            "dialogues": "on",
            "language": "da",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.expire_all()
    records = history(session=session, customer_id=anna)
    assert [(r.decision, r.method) for r in records] == [
        ("granted", "preference_centre"),
        ("withdrawn", "preference_centre"),
    ]
    assert records[0].ip_prefix == "testclient" or records[0].ip_prefix is None
    prefs = current_preferences(session=session, customer_id=anna)
    assert prefs.caps["email"].count == 1 and prefs.caps["email"].period == "week"
    assert prefs.quiet_hours is not None and prefs.quiet_hours.start.hour == 21
    assert prefs.channels["sms"] is False and prefs.topics == ["news", "events"]


def test_csrf_is_enforced(client, session, anna) -> None:
    token = _link(session, anna)
    for csrf in ("", "0" * 40):
        refused = client.post(
            f"/p/{token}/consent",
            data={"csrf_token": csrf, "purpose": "marketing", "decision": "grant"},
        )
        assert refused.status_code == 403
    assert history(session=session, customer_id=anna) == []


def test_one_link_cannot_touch_another_customer(client, session, anna, bram) -> None:
    anna_token, bram_token = _link(session, anna), _link(session, bram)
    anna_csrf = _form_token(client.get(f"/p/{anna_token}").text)
    refused = client.post(
        f"/p/{anna_token}/consent",
        data={
            "csrf_token": anna_csrf,
            "customer_id": bram,
            "purpose": "marketing",
            "decision": "grant",
        },
    )
    assert refused.status_code == 403
    # Anna's CSRF token is no good on Bram's link either.
    refused = client.post(
        f"/p/{bram_token}/consent",
        data={"csrf_token": anna_csrf, "purpose": "marketing", "decision": "grant"},
    )
    assert refused.status_code == 403
    assert history(session=session, customer_id=bram) == []
    session.rollback()  # SQLite: release the read transaction before the app writes again
    assert "bram@example.org" not in client.get(f"/p/{anna_token}").text


def test_expired_and_revoked_links_get_a_localised_410(client, session, anna) -> None:
    token = _link(session, anna)
    link = session.get(PersonalLink, int(token.split(".")[0]))
    link.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    gone = client.get(f"/p/{token}", headers={"accept-language": "sv"})
    assert gone.status_code == 410
    assert "Länken har gått ut." in gone.text and "Traceback" not in gone.text
    revoked = _link(session, anna)
    from tillit.consent.links import revoke_link

    revoke_link(session=session, link_id=int(revoked.split(".")[0]), actor=ACTOR)
    session.commit()
    assert client.get(f"/p/{revoked}").status_code == 410
    assert client.get(f"/p/{token[:-3]}xyz").status_code == 410


def test_gpc_request_withdraws_partner_sharing(client, session, anna) -> None:
    token = _link(session, anna)
    csrf = _form_token(client.get(f"/p/{token}").text)
    client.post(
        f"/p/{token}/consent",
        data={"csrf_token": csrf, "purpose": "partner_sharing", "decision": "grant"},
    )
    client.get(f"/p/{token}", headers={"Sec-GPC": "1", "user-agent": "Browser/1"})
    session.expire_all()
    assert current_consents(session=session, customer_id=anna)["partner_sharing"].method == "gpc"


def test_one_click_unsubscribe(client, session, anna) -> None:
    topic_token = unsubscribe_token(
        session=session, customer_id=anna, scope="topic:offers", secret_key=SECRET
    )
    purpose_token = unsubscribe_token(
        session=session, customer_id=anna, scope="purpose:marketing", secret_key=SECRET
    )
    session.commit()
    shown = client.get(f"/u/{topic_token}")
    assert shown.status_code == 200 and 'value="One-Click"' in shown.text
    assert preference_history(session=session, customer_id=anna) == []  # GET changes nothing
    session.rollback()
    urlencoded = client.post(
        f"/u/{topic_token}",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert urlencoded.status_code == 200 and "set-cookie" not in urlencoded.headers
    multipart = client.post(
        f"/u/{purpose_token}",
        files={"List-Unsubscribe": (None, "One-Click")},
        follow_redirects=False,
    )
    assert multipart.status_code == 200
    session.expire_all()
    prefs = current_preferences(session=session, customer_id=anna)
    assert prefs.topics is not None and "offers" not in prefs.topics and "news" in prefs.topics
    assert preference_history(session=session, customer_id=anna)[0].method == "unsubscribe"
    marketing = current_consents(session=session, customer_id=anna)["marketing"]
    assert (marketing.decision, marketing.method) == ("withdrawn", "unsubscribe")
    assert client.post(f"/u/{topic_token[:-2]}00").status_code == 404


def test_export_contains_everything_and_erasure_leaves_no_trace(
    client, session, anna, traces_of
) -> None:
    token = _link(session, anna)
    csrf = _form_token(client.get(f"/p/{token}").text)
    client.post(
        f"/p/{token}/consent",
        data={"csrf_token": csrf, "purpose": "marketing", "decision": "grant"},
    )
    client.post(
        f"/p/{token}/preferences",
        data={"csrf_token": csrf, "cap_email_count": "2", "cap_email_period": "day"},
    )
    log_decision(
        session=session,
        customer_id=anna,
        channel="email",
        kind="marketing",
        outcome="allowed",
        reasons=["ok"],
    )
    session.commit()
    exported = client.post(f"/p/{token}/export", data={"csrf_token": csrf})
    document = exported.json()
    assert "attachment" in exported.headers["content-disposition"]
    assert document["profile"]["name"] == "Anna Testesen"
    assert {i["value"] for i in document["identities"]} == {"anna@example.com", "+4520123456"}
    assert document["consents"][0]["purpose"] == "marketing"
    assert document["preferences"][0]["preferences"]["caps"]["email"]["count"] == 2
    assert document["contact_decisions"][0]["reasons"] == ["ok"]

    erased = client.post(f"/p/{token}/erase", data={"csrf_token": csrf, "confirm": "yes"})
    assert erased.status_code == 200
    needles = ("anna@example.com", "+4520123456", "Anna Testesen", "blue wool socks")
    assert traces_of(*needles) == []
    assert client.get(f"/p/{token}").status_code == 410
    assert session.scalar(select(text("count(*)")).select_from(text("suppression"))) == 2
    assert session.scalar(select(text("count(*)")).select_from(text("erasure_proof"))) == 1
