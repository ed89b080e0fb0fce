"""A staff member signs in and sees the home overview; axe-core finds no serious or critical
violation, and the page does not scroll sideways on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations


@pytest.fixture(scope="module")
def analyst(live_server):
    live_server.cli(
        "users", "create", "--email", "olga@example.com", "--name", "Olga Overview",
        "--role", "admin", "--password", "a-long-overview-password",
    )  # fmt: skip
    return "olga@example.com", "a-long-overview-password"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_home_overview_is_accessible_at_both_widths(
    live_server, browser, analyst, width, tmp_path
):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("E-mail").fill(analyst[0])
        page.get_by_label("Password").fill(analyst[1])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff")
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        expect(page.get_by_role("heading", name="Consent by purpose")).to_be_visible()
        expect(page.get_by_role("heading", name="Open cases")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"home-{width}.png"), full_page=True)
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []
    finally:
        context.close()
