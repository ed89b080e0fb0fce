"""The promises in real Chromium against the real server: a Norwegian customer sees their
record in the preference centre, with one broken promise, and opens a case from it; the public
page answers in all five languages. At 1280 and 390 px, with axe-core."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from tests.browser.axe import scrolls_sideways, serious_violations
from tests.conftest import STAFF_PASSWORD, create_staff
from tests.promises.helpers import SYSTEM, customer, request
from tests.server import running_server

from tillit.analytics.engine import connect
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.config import load_settings
from tillit.consent.links import create_link
from tillit.dialogues.models import Case
from tillit.promises.models import PromiseBreach
from tillit.promises.store import measure_promises
from tillit.storage import make_engine, make_session_factory, upgrade

SECRET = "browser-test-secret-key-0123456789-promises"
SHOTS = Path(os.environ.get("TILLIT_SCREENSHOTS", "/tmp/tillit-shots"))
WORDS = {
    "en": "Our promises",
    "da": "Vores løfter",
    "sv": "Våra löften",
    "nb": "Våre løfter",
    "nl": "Onze beloften",
}


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


def _look(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert serious_violations(page) == []
    assert scrolls_sideways(page) == 0


def test_a_norwegian_customer_opens_a_case_and_the_public_page_speaks_five_languages(
    server, browser, tmp_path: Path
) -> None:
    base, url = server
    sessions = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    with sessions() as session, session.begin():
        kari = customer(session, "kari")  # nb-NO, Europe/Oslo
        request(session, kari, now - timedelta(days=60), done_after=timedelta(days=40))
        request(session, kari, now - timedelta(days=50), done_after=timedelta(days=2))
        token = create_link(
            session=session, customer_id=kari, secret_key=SECRET, actor=SYSTEM
        ).token
    settings = load_settings(env="test", data_dir=tmp_path, database_url=url, secret_key=SECRET)
    refresh_snapshots(sessions=sessions, data_dir=tmp_path)
    measure_promises(
        sessions=sessions,
        settings=settings,
        model=lambda: Model(connect(settings, "duckdb"), tmp_path),
    )
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/p/{token}")
        assert page.locator("html").get_attribute("lang") == "nb"
        record = page.locator("#promises")
        expect(record.get_by_role("heading", name="Våre løfter til deg")).to_be_visible()
        expect(record.locator(".broken-promise")).to_have_count(1)
        expect(record.locator(".broken-promise")).to_contain_text("Vi beklager")
        expect(record).to_contain_text(
            "Vi svarer på forespørslene dine om dataene dine innen 30 dager."
        )
        _look(page, f"centre-promises-{width}")
        record.screenshot(path=str(SHOTS / f"record-{width}.png"))
        if width == 390:
            record.get_by_role("button", name="Fortell oss om det").click()
            page.wait_for_url(re.compile(r"saved=promise:\d+.*#promises$"))
            expect(page.locator("#promises [role=status]")).to_contain_text(
                "Vi har opprettet en sak om det"
            )
            expect(page.locator("#promises form")).to_have_count(0)
            _look(page, "centre-promises-case-390")
        context.close()
    with sessions() as session:
        breach = session.scalars(select(PromiseBreach)).one()
        case = session.get(Case, breach.case_id)
        assert case is not None and case.customer_id == kari
        assert case.rule == "promise:data-requests"
    # The public page answers in all five languages (one server for both: each takes long to
    # start on a busy machine).
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        for language, heading in WORDS.items():
            page.goto(f"{base}/promises?lang={language}")
            assert page.locator("html").get_attribute("lang") == language
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            expect(page.locator("li.promise")).to_have_count(8)
        _look(page, f"public-promises-nl-{width}")
        page.locator("main").screenshot(path=str(SHOTS / f"public-main-{width}.png"))
        context.close()
    # The staff reality check beside it: promised against measured, and the drill-down.
    agent = create_staff(sessions, role="agent", email="per.agent@example.com")
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/staff/login")
        page.get_by_label("E-mail").fill(agent.email)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/staff/promises")
        row = page.locator("#row-data-requests")
        expect(row).to_contain_text("Data requests answered in time")
        expect(row.locator("svg.trend circle")).to_have_count(2)  # two weeks with requests
        _look(page, f"staff-promises-{width}")
        row.get_by_role("link", name="Data requests answered in time").click()
        expect(page.get_by_role("heading", name="Each time it was broken")).to_be_visible()
        broken = page.locator('section[aria-labelledby="broken-title"] table.data tbody tr')
        expect(broken).to_have_count(1)
        expect(broken).to_contain_text("Data request")
        where = page.locator('section[aria-labelledby="where-title"]')
        expect(where.get_by_role("heading", name="Where it broke")).to_be_visible()
        _look(page, f"staff-promise-drilldown-{width}")
        context.close()
