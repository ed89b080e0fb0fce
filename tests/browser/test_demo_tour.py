"""Issue 16's newcomer's first hour, on a freshly simulated demo: sign in to a filled overview,
open a Danish customer's preference centre from their staff page and set e-mail to at most one a
week with quiet hours 21-08, see that customer's events on three channels, NPS with its interval,
open and breached cases, and match suggestions; no staff page scrolls sideways on a phone, and
axe-core finds nothing serious on the overview and the login."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations

from tillit.testing import running_server

STAFF_PAGES = [
    "/staff",
    "/staff/customers",
    "/staff/consent",
    "/staff/data-requests",
    "/staff/dialogues",
    "/staff/dialogues/responses",
    "/staff/dialogues/metrics",
    "/staff/cases",
    "/staff/matches",
    "/staff/imports",
    "/staff/quality",
    "/staff/insight",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A small simulated year on SQLite of its own (the demo refuses a used database)."""
    data_dir = tmp_path_factory.mktemp("demo")
    env = {
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_DATABASE_URL": "",
        "TILLIT_ENV": "development",
        "TILLIT_JOBS_INTERVAL_SECONDS": "0",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tillit",
            "demo",
            "--no-serve",
            "--customers",
            "150",
            "--days",
            "60",
        ],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=600,
    )
    with running_server(env=env, log_path=data_dir / "server.log") as url:
        yield url, data_dir


def _danish_customer_on_three_channels(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "tillit.db") as db:
        row = db.execute(
            "SELECT c.id FROM customer c JOIN event e ON e.customer_id = c.id "
            "WHERE c.locale LIKE 'da%' AND c.status = 'active' "
            "GROUP BY c.id HAVING count(DISTINCT e.channel) >= 3 ORDER BY c.id LIMIT 1"
        ).fetchone()
    assert row, "the demo has no Danish customer seen on three channels"
    return int(row[0])


def _sign_in(page, url: str, data_dir: Path) -> None:
    page.goto(f"{url}/staff/login")
    page.get_by_label("E-mail").fill("admin@example.com")
    page.get_by_label("Password").fill((data_dir / "demo-login.txt").read_text().strip())
    page.get_by_role("button", name="Sign in").click()


def test_a_newcomers_first_hour(demo, browser, tmp_path):
    url, data_dir = demo
    customer = _danish_customer_on_three_channels(data_dir)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        _sign_in(page, url, data_dir)
        expect(page).to_have_url(f"{url}/staff")
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        sent = page.locator("#t-messages ~ .figures strong").first
        assert int(sent.inner_text().replace(",", "")) > 0  # messages were sent
        assert page.locator("#t-consent ~ table tbody tr").count() >= 4
        assert serious_violations(page) == []

        page.goto(f"{url}/staff/customers/{customer}/timeline")
        events = page.locator("table.data", has=page.locator("th", has_text="Channel"))
        channels = {c.strip() for c in events.locator("tbody tr td:nth-child(2)").all_inner_texts()}
        assert len(channels) >= 3, channels

        page.goto(f"{url}/staff/dialogues/metrics")
        expect(page.locator("figure svg[role=img]")).to_be_visible()
        with_interval = re.compile(r"^-?\d+ \(-?\d+ to -?\d+\), \d+$")  # NPS (low to high), n
        assert page.locator("td", has_text=with_interval).count() > 0

        page.goto(f"{url}/staff/cases")
        expect(page.locator("tr.case-row").first).to_be_visible()
        expect(page.get_by_text("past deadline").first).to_be_visible()

        page.goto(f"{url}/staff/matches")
        expect(page.get_by_text("likely the same person").first).to_be_visible()

        page.goto(f"{url}/staff/customers/{customer}")
        page.get_by_role("button", name="Open their preference centre").click()
        expect(page.get_by_text("Staff view: you,")).to_be_visible()
        assert page.locator("html").get_attribute("lang") == "da"
        page.fill("#cap_email_count", "1")
        page.select_option("#cap_email_period", "week")
        page.get_by_text("21:00–08:00").click()
        page.get_by_role("button", name="Gem mine valg").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Vi sender dig e-mails højst én gang om ugen, aldrig mellem 21:00 og 08:00."
        )
        page.screenshot(path=str(tmp_path / "centre.png"), full_page=True)
    finally:
        context.close()


def test_no_staff_page_scrolls_sideways_on_a_phone(demo, browser):
    url, data_dir = demo
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{url}/staff/login")
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0
        _sign_in(page, url, data_dir)
        customer = _danish_customer_on_three_channels(data_dir)
        pages = [
            *STAFF_PAGES,
            f"/staff/customers/{customer}",
            f"/staff/customers/{customer}/timeline",
            f"/staff/consent/customers/{customer}",
        ]
        wide = {}
        for path in pages:
            page.goto(url + path)
            if (extra := scrolls_sideways(page)) > 0:
                wide[path] = extra
        assert wide == {}
    finally:
        context.close()
