"""The preference centre in real Chromium against the real server (`tillit serve`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.server import running_server
from tillit.config import load_settings
from tillit.consent.ledger import current_consents
from tillit.consent.links import create_link
from tillit.consent.preferences import current_preferences
from tillit.contact.log import record_send
from tillit.contact.service import decide_for
from tillit.customers.models import Customer
from tillit.storage import make_engine, make_session_factory, upgrade

from .conftest import ACTOR, SECRET, make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'tillit.db'}"
    upgrade(make_engine(url))
    env = {
        "TILLIT_DATABASE_URL": url,
        "TILLIT_DATA_DIR": str(tmp_path),
        "TILLIT_SECRET_KEY": SECRET,
    }
    with running_server(env=env, log_path=tmp_path / "server.log") as base:
        yield base, url


@pytest.mark.parametrize(
    ("locale", "withdraw", "save", "summary"),
    [
        (
            "da",
            "Træk tilbage",
            "Gem mine valg",
            "Vi sender dig e-mails højst én gang om ugen, aldrig mellem 21:00 og 08:00.",
        ),
        (
            "nl",
            "Intrekken",
            "Mijn keuzes opslaan",
            "We e-mailen je hoogstens één keer per week, nooit tussen 21:00 en 08:00.",
        ),
    ],
)
def test_withdraw_and_set_email_cap_with_quiet_hours(
    server, browser, locale, withdraw, save, summary
) -> None:
    """On a phone: at most one e-mail a week, quiet hours 21-08 from a preset, and the summary
    of what changes is shown where the customer is, in their language."""
    base, url = server
    sessions = make_session_factory(make_engine(url))
    with sessions() as session:
        customer_id = make_customer(
            session, name="Karen Eksempel", email=f"k.{locale}@example.com", locale=locale
        )
        from tillit.consent.ledger import record_consent
        from tillit.consent.models import ConsentDecision, Method

        record_consent(
            session=session,
            customer_id=customer_id,
            purpose_key="marketing",
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=ACTOR,
        )
        record_consent(  # dialogues: consent-based, granted, so caps and quiet hours decide
            session=session,
            customer_id=customer_id,
            purpose_key="research",
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=ACTOR,
        )
        token = create_link(
            session=session, customer_id=customer_id, secret_key=SECRET, actor=ACTOR
        ).token
        session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone screen
    try:
        page = context.new_page()
        page.goto(f"{base}/p/{token}")
        assert page.locator("html").get_attribute("lang") == locale
        page.locator("#withdraw-marketing").click()
        assert page.locator("#grant-marketing").is_visible()
        beside = page.locator("article[aria-labelledby=purpose-marketing] [role=status]")
        expect(beside).to_be_in_viewport()  # the confirmation beside the button pressed
        page.fill("#cap_email_count", "1")
        page.select_option("#cap_email_period", "week")
        page.get_by_text("21:00–08:00").click()  # a preset: no typing
        page.get_by_role("button", name=save).click()
        page.wait_for_url(re.compile(r"saved=preferences.*#saved$"))
        confirmation = page.get_by_role("status")
        expect(confirmation).to_contain_text(summary)
        expect(confirmation).to_be_in_viewport()  # not 2,400 px above the screen
        expect(page.locator("#save-preferences")).to_be_in_viewport()  # beside the button
        if os.environ.get("TILLIT_SCREENSHOTS"):
            page.screenshot(path=f"{os.environ['TILLIT_SCREENSHOTS']}/saved-{locale}-390.png")
        assert withdraw  # the label the Withdraw button had before the click
    finally:
        context.close()
    with sessions() as session:
        marketing = current_consents(session=session, customer_id=customer_id)["marketing"]
        assert (marketing.decision, marketing.method) == ("withdrawn", "preference_centre")
        prefs = current_preferences(session=session, customer_id=customer_id)
        assert prefs.caps["email"].count == 1 and prefs.caps["email"].period == "week"
        assert prefs.quiet_hours is not None
        assert (prefs.quiet_hours.start.hour, prefs.quiet_hours.end.hour) == (21, 8)

    assert_policy_follows_the_choices(sessions, customer_id, url)


def assert_policy_follows_the_choices(sessions, customer_id: int, url: str) -> None:
    """What the customer chose in the browser is what the contact policy now enforces."""
    settings = load_settings(database_url=url, secret_key=SECRET)
    with sessions() as session:
        zone = ZoneInfo(session.get(Customer, customer_id).time_zone)
        evening = datetime(2026, 12, 2, 22, 30, tzinfo=zone)  # a Wednesday, inside 21-08
        noon = evening.replace(hour=12, minute=0)

        def decide(purpose: str, kind: str, at: datetime):
            return decide_for(
                session=session,
                customer_id=customer_id,
                purpose=purpose,
                kind=kind,
                channel="email",
                topic=None,
                at=at,
                settings=settings,
            ).decision

        marketing = decide("marketing", "marketing", noon)
        assert (marketing.outcome, marketing.reason) == ("denied", "no_consent")
        late = decide("research", "dialogue", evening)
        assert (late.outcome, late.reason) == ("deferred", "quiet_hours")
        assert late.defer_until == datetime(2026, 12, 3, 8, 0, tzinfo=zone)
        assert decide("research", "dialogue", noon).outcome == "allowed"
        record_send(
            session=session,
            customer_id=customer_id,
            channel="email",
            kind="dialogue",
            sent_at=noon - timedelta(days=2),
        )
        capped = decide("research", "dialogue", noon)
        assert (capped.outcome, capped.reason) == ("deferred", "customer_cap")
        assert capped.defer_until == noon - timedelta(days=2) + timedelta(days=7)
        receipt = decide("order_update", "transactional", evening)
        assert receipt.reason != "no_consent"  # transactional mail never needs consent
