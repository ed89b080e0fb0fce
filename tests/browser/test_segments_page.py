"""The Segments staff page in Chromium at 1280 and 390 px: a segment saved and refreshed from
the command line shows its members, purpose, those left out and freshness; axe-core finds no
serious violation and nothing scrolls sideways."""

from __future__ import annotations

import re

import orjson
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations


def test_the_segments_page_lists_size_purpose_left_out_and_freshness(
    live_server, browser, tmp_path
):
    live_server.cli(
        "users",
        "create",
        "--email",
        "astrid.seg@example.com",
        "--name",
        "Astrid Lind",
        "--role",
        "analyst",
        "--password",
        "a-long-browser-password",
    )
    rules = tmp_path / "rules.json"
    rules.write_bytes(orjson.dumps({"kind": "country", "countries": ["NO", "SE"]}))
    live_server.cli(
        "analytics",
        "segments",
        "save",
        "nordic-buyers",
        "--definition",
        str(rules),
        "--purpose",
        "marketing",
        "--name",
        "Nordic buyers",
    )
    live_server.cli("analytics", "segments", "refresh", "--engine", "duckdb")
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{live_server.url}/staff/segments")
        expect(page).to_have_url(re.compile(r"/staff/login"))
        page.get_by_label("E-mail").fill("astrid.seg@example.com")
        page.get_by_label("Password").fill("a-long-browser-password")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff/segments")
        expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
        row = page.locator("table.data tbody tr").filter(has_text="Nordic buyers")
        expect(row).to_contain_text("marketing")
        expect(row).not_to_contain_text("not yet computed")
        page.screenshot(path=str(tmp_path / f"segments-{width}.png"), full_page=True)
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0
        context.close()
