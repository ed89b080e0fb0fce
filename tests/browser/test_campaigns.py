"""Campaigns in Chromium: the Dutch customer who chose at most one e-mail a week and no SMS is
planned into two campaigns in one week; one reaches her mailbox (a real SMTP server), the other
is held for her own limit, and her preference centre shows both, in Dutch, with why. Staff see
the campaigns, a campaign's previews in five languages, the funnel with the hold-back reasons
in words and relevance against the blast. Both widths, axe-core clean."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations
from tests.campaigns.helpers import ACTOR, customer, definition, segment, views
from tests.conftest import Inbox

from tillit.campaigns import delivery, service
from tillit.campaigns.definitions import parse_definition
from tillit.config import load_settings
from tillit.consent.links import create_link
from tillit.customers.service import Defaults
from tillit.storage import make_engine, make_session_factory

MONDAY = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)
PASSWORD = "a-long-campaign-password"


@pytest.fixture(scope="module")
def week(live_server):
    settings = load_settings(
        data_dir=live_server.env["TILLIT_DATA_DIR"],
        database_url=live_server.env["TILLIT_DATABASE_URL"],
        secret_key=live_server.env["TILLIT_SECRET_KEY"],
    )
    live_server.cli(
        "users", "create", "--email", "carla@example.com", "--name", "Carla Campaign",
        "--role", "admin", "--password", PASSWORD,
    )  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(engine)
    defaults = Defaults(country="NL", language="nl", time_zone="Europe/Amsterdam")
    nina = customer(
        sessions, defaults, name="Nina de Vries", locale="nl-NL", zone="Europe/Amsterdam",
        phone=True,
        preferences={
            "topics": ["offers"], "channels": {"sms": False}, "language": "nl",
            "caps": {"email": {"count": 1, "period": "week"}},
        },
    )  # fmt: skip
    others = [
        customer(sessions, defaults, name=f"Klant {n}", locale="nl-NL", zone="Europe/Amsterdam",
                 preferences={"topics": ["offers"]} if n % 2 else None)
        for n in range(12)
    ]  # fmt: skip
    views(sessions, nina, "outdoor", 3, MONDAY)
    segment(sessions, [nina, *others], key="dutch-week")
    with sessions() as session, session.begin():
        for key, name, blast in (("winter-sale", "Winter sale", 0), ("new-year", "New year", 0.3)):
            spec = definition(key=key, name=name, segment="dutch-week", blast_share=blast)
            service.create_campaign(session=session, definition=parse_definition(spec), actor=ACTOR)
            service.approve_campaign(session=session, key=key, actor=ACTOR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
        with sessions() as session, session.begin():
            service.plan_campaign(
                session=session, settings=mail, key="winter-sale", actor=ACTOR, now=MONDAY
            )
        delivery.send_campaign(sessions, mail, "winter-sale", now=MONDAY)
        with sessions() as session, session.begin():
            held = service.plan_campaign(
                session=session, settings=mail, key="new-year", actor=ACTOR,
                now=MONDAY + timedelta(days=2),
            )  # fmt: skip
        ninas = [m for m in inbox.messages if b"Nina" in m]
    finally:
        controller.stop()
    with sessions() as session, session.begin():
        token = create_link(
            session=session, customer_id=nina, secret_key=settings.secret_key, actor=ACTOR
        ).token
    engine.dispose()
    return {"token": token, "ninas_mail": ninas, "held": held.held}


@pytest.mark.parametrize("width", [1280, 390])
def test_she_sees_both_messages_with_why(live_server, browser, week, width, tmp_path):
    assert len(week["ninas_mail"]) == 1  # the first campaign reached her once
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/p/{week['token']}")
        section = page.locator("#campaign-messages")
        expect(
            section.get_by_role("heading", name="Onze berichten aan jou, en waarom")
        ).to_be_visible()
        items = section.locator("li")
        expect(items).to_have_count(2)
        expect(section).to_contain_text("Verstuurd")
        expect(section).to_contain_text("Tegengehouden")
        expect(section).to_contain_text("Relevant voor jou omdat je koos voor")
        expect(section).to_contain_text("bekeek hardloopschoenen")
        expect(section).to_contain_text(
            "Je zou meer berichten hebben gekregen dan je had gevraagd."
        )
        section.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"centre-{width}.png"), full_page=True)
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_see_the_funnel_previews_and_relevance_against_the_blast(
    live_server, browser, week, width, tmp_path
):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("E-mail").fill("carla@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff/campaigns")
        expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
        expect(page.get_by_role("heading", name="Draft a campaign")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"campaigns-{width}.png"), full_page=True)
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []

        page.get_by_role("link", name="New year").click()
        expect(page.get_by_role("heading", name="Previews in every language")).to_be_visible()
        for language in ("English", "Dansk", "Svenska", "Norsk bokmål", "Nederlands"):
            expect(page.get_by_role("heading", name=language, exact=True)).to_be_visible()
        expect(page.get_by_text("Hallo Nina, nieuwe hardloopschoenen").first).to_be_visible()
        expect(page.locator("main")).to_contain_text("Customer's own limit reached")
        page.screenshot(path=str(tmp_path / f"campaign-{width}.png"), full_page=True)
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []

        results = page.locator("section").filter(has_text="Relevance against the blast")
        expect(results).to_contain_text("blast slice")
    finally:
        context.close()
