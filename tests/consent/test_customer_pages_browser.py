"""The pages a customer reaches by a link (preference centre, question, unsubscribe) in real
Chromium against the real server: axe-core finds no serious or critical violation, no page
scrolls sideways on a 390 px phone, and a field error comes back beside its field."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.axe import scrolls_sideways, serious_violations
from tests.server import running_server
from tillit.config import load_settings
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.links import create_link
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.unsubscribe import unsubscribe_token
from tillit.contact.log import log_decision
from tillit.dialogues import catalogue, in_place
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.base import utcnow

from .conftest import ACTOR, SECRET, make_customer

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


@dataclass
class Links:
    base: str
    centre: str
    question: str
    unsubscribe: str


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Links]:
    data_dir = tmp_path_factory.mktemp("customer-pages")
    url = f"sqlite:///{data_dir / 'tillit.db'}"
    engine = make_engine(url)
    upgrade(engine)
    env = {"TILLIT_DATABASE_URL": url, "TILLIT_DATA_DIR": str(data_dir)}
    with running_server(env={**env, "TILLIT_SECRET_KEY": SECRET}) as base:
        settings = load_settings(database_url=url, secret_key=SECRET, base_url=base)
        with make_session_factory(engine)() as session:
            customer_id = make_customer(
                session,
                name="Karen Eksempel-Langenavnsen",
                email="karen.eksempel.med.en.meget.lang.adresse@example.com",
                phone="+45 20 12 34 56",
                locale="da-DK",
            )
            for purpose in ("marketing", "research"):
                record_consent(
                    session=session,
                    customer_id=customer_id,
                    purpose_key=purpose,
                    decision=ConsentDecision.granted,
                    method=Method.form,
                    actor=ACTOR,
                    evidence=Evidence(),
                )
            for channel, outcome, reasons in (
                ("email", "allowed", []),
                ("sms", "denied", ["no_consent"]),
                ("email", "deferred", ["quiet_hours"]),
            ):
                log_decision(
                    session=session,
                    customer_id=customer_id,
                    channel=channel,
                    kind="marketing",
                    outcome=outcome,
                    reasons=reasons,
                    defer_until=None if outcome != "deferred" else utcnow(),
                )
            question = in_place.ask_in_place(
                session=session,
                settings=settings,
                customer_id=customer_id,
                channel="web",
                question=catalogue.get_question(session=session, key="nps_relationship"),
                trigger="test",
                reason="asked because: test",
            )
            assert question is not None
            links = Links(
                base=base,
                centre=create_link(
                    session=session, customer_id=customer_id, secret_key=SECRET, actor=ACTOR
                ).token,
                question=question.token,
                unsubscribe=unsubscribe_token(
                    session=session,
                    customer_id=customer_id,
                    scope="topic:offers",
                    secret_key=SECRET,
                ),
            )
            session.commit()
        yield links
    engine.dispose()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: TILLIT_SCREENSHOTS to keep them, else the test's own folder."""
    folder = Path(os.environ.get("TILLIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    if os.environ.get("TILLIT_SCREENSHOTS"):  # kept for a person to look at: readable slices
        width, height = page.viewport_size["width"], page.evaluate("document.body.scrollHeight")
        for index, top in enumerate(range(0, height, 1000)):
            clip = {"x": 0, "y": top, "width": width, "height": min(1000, height - top)}
            page.screenshot(path=str(shots / f"{name}-part{index}.png"), clip=clip, full_page=True)
    assert scrolls_sideways(page) == 0, name
    assert serious_violations(page) == [], name


@pytest.mark.parametrize("width", WIDTHS)
def test_customer_pages_are_accessible_and_fit_a_phone(links, browser, shots, width) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{links.base}/p/{links.centre}")
        expect(page.get_by_role("heading", name="Dit forhold til os", level=1)).to_be_visible()
        _check(page, shots, f"centre-{width}")
        page.goto(f"{links.base}/d/{links.question}")
        expect(page.locator("input[name=score]").first).to_be_visible()
        _check(page, shots, f"question-{width}")
        page.goto(f"{links.base}/u/{links.unsubscribe}")
        expect(page.get_by_text("Tilbud")).to_be_visible()  # what it stops, not topic:offers
        _check(page, shots, f"unsubscribe-{width}")
        page.get_by_role("button", name="Afmeld").click()
        expect(page.get_by_role("status")).to_be_visible()
        _check(page, shots, f"unsubscribed-{width}")
        page.goto(f"{links.base}/p/{links.centre[:-4]}xxxx")  # a broken link: the 410 page
        _check(page, shots, f"gone-{width}")
    finally:
        context.close()


def test_a_mistyped_time_zone_comes_back_beside_the_field(links, browser, shots) -> None:
    """A crafted zone (a select cannot be mistyped, a hand-made post can) is refused inline;
    the other changes stay, and the page is still accessible with the error on it."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{links.base}/p/{links.centre}")
        page.fill("#cap_sms_count", "2")
        page.get_by_text("22:00–07:00").click()
        page.eval_on_selector(
            "#time_zone", "s => s.add(new Option('Europe/Copenhagn', 'Europe/Copenhagn', 1, 1))"
        )
        page.get_by_role("button", name="Gem mine valg").click()
        error = page.locator("#time_zone-error")
        expect(error).to_have_text("Vælg din tidszone på listen.")
        expect(page.locator("#preferences-errors")).to_be_in_viewport()  # where the customer is
        expect(page.locator("#time_zone")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#cap_sms_count")).to_have_value("2")
        expect(page.locator("input[name=quiet][value='22:00-07:00']")).to_be_checked()
        _check(page, shots, "centre-error-390")
    finally:
        context.close()


def test_the_danish_customer_sets_a_weekly_email_with_no_javascript(links, browser) -> None:
    """Everything works without JavaScript: presets are radio buttons, the summary comes
    from the server, and it is shown beside the button on a phone."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{links.base}/p/{links.centre}")
        page.fill("#cap_email_count", "1")
        page.select_option("#cap_email_period", "week")
        page.get_by_text("21:00–08:00").click()
        page.get_by_role("button", name="Gem mine valg").click()
        confirmation = page.locator("#saved")
        expect(confirmation).to_contain_text(
            "Vi sender dig e-mails højst én gang om ugen, aldrig mellem 21:00 og 08:00."
        )
        expect(confirmation).to_be_in_viewport()
    finally:
        context.close()
