"""Issue 16's newcomer's first hour, on a freshly simulated demo: sign in to a filled overview,
open a Danish customer's preference centre from their staff page and set e-mail to at most one a
week with quiet hours 21-08, see that customer's events on three channels, NPS with its interval,
open and breached cases, and match suggestions; no staff page scrolls sideways on a phone, and
axe-core finds nothing serious on the overview and the login."""

from __future__ import annotations

import json
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
from tests.server import running_server

from tillit.privacy.models import DataRequestKind

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


# Stored values that happen to be English words but read as codes in a table cell of their own.
STORED_WORDS = {*(kind.value for kind in DataRequestKind), "open", "done", "rejected"}

SNAKE_CASE = re.compile(r"(?<![\w@/:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")


def _codes_staff_must_not_read(data_dir: Path) -> set[str]:
    """The stored keys and enum values that have words of their own on staff pages: question
    keys and answer values, purposes, topics, contact reasons, consent methods, identity types
    and preference fields (those with an underscore, which no English word has)."""
    from tillit.consent.models import Method
    from tillit.consent.preferences import PreferenceDocument
    from tillit.consent.wording import CHANNEL_NAMES, IDENTITY_NAMES
    from tillit.contact.reasons import STAFF_LABELS

    codes = {*STAFF_LABELS, *(m.value for m in Method), *IDENTITY_NAMES, *CHANNEL_NAMES}
    codes |= set(PreferenceDocument.model_fields)
    with sqlite3.connect(data_dir / "tillit.db") as db:
        for table in ("dialogue_question", "consent_purpose", "consent_topic"):
            codes |= {key for (key,) in db.execute(f"SELECT key FROM {table}")}
        for (options,) in db.execute("SELECT options FROM dialogue_question_version"):
            codes |= {str(option["value"]) for option in json.loads(options or "[]")}
    return {code for code in codes if "_" in code}


def test_staff_pages_show_words_not_codes(demo, browser):
    """Every staff page of the demo, and the detail pages they lead to, read as words: no
    stored key (``week_1``, ``preference_centre``, ``no_consent``), no snake_case token at all,
    and no raw JSON."""
    url, data_dir = demo
    codes = _codes_staff_must_not_read(data_dir)
    assert {"preference_centre", "no_consent", "nps_relationship", "week_1"} <= codes
    with sqlite3.connect(data_dir / "tillit.db") as db:
        busiest = db.execute(  # the customer whose history has the most to show
            "SELECT customer_id FROM consent_record GROUP BY customer_id "
            "ORDER BY count(*) DESC, customer_id LIMIT 1"
        ).fetchone()[0]
        case = db.execute("SELECT min(id) FROM dialogue_case").fetchone()[0]
        merged = db.execute(  # a profile others were merged into: its merges and its audit
            "SELECT into_customer_id FROM identity_merge ORDER BY id LIMIT 1"
        ).fetchone()[0]
        reasons = {reason for (reason,) in db.execute("SELECT reason FROM identity_merge")}
        countries = {c for (c,) in db.execute("SELECT DISTINCT country FROM customer") if c}
    assert reasons and countries
    customer = _danish_customer_on_three_channels(data_dir)
    pages = [*STAFF_PAGES, f"/staff/cases/{case}", "/staff/data-requests?all=1"]
    for who in (customer, busiest, merged):
        pages += [
            f"/staff/customers/{who}",
            f"/staff/customers/{who}/timeline",
            f"/staff/consent/customers/{who}",
        ]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    found: dict[str, set[str]] = {}
    try:
        _sign_in(page, url, data_dir)
        for path in pages:
            page.goto(url + path)
            text = page.locator("main").inner_text()
            text += " ".join(page.locator("main option").all_inner_texts())
            seen = {code for code in codes if re.search(rf"(?<![\w-]){code}(?![\w-])", text)}
            seen |= set(SNAKE_CASE.findall(text))
            if re.search(r"[{\[]\s*\"\w+\":", text):
                seen.add("raw JSON")
            # a merge's stored reason ("match: probability 0.9990"), a country code as a trait
            # value ("Country DK"), a data request's kind or status as stored ("access")
            seen |= {reason for reason in reasons if reason in text}
            seen |= {c for c in countries if re.search(rf"(?<![\w-]){c}(?![\w-])", text)}
            cells = {cell.strip() for cell in page.locator("main td").all_inner_texts()}
            seen |= cells & STORED_WORDS
            if seen:
                found[path] = seen
    finally:
        context.close()
    assert found == {}
