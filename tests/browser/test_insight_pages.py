"""The themes explorer and the comments behind it in real Chromium, on the five-language demo
feedback plus one comment from a known customer: readable theme names, the filters, a theme's
comments, a comment's customer; at 1280 and 390 px, no sideways scroll, no serious or critical
axe violation."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations

KAREN_SAYS = "Min pakke kom tre uger for sent, og ingen svarede på min mail."


@pytest.fixture(scope="module")
def analyst(live_server):
    live_server.cli(
        "users", "create", "--email", "ines@example.com", "--name", "Ines Insight",
        "--role", "analyst", "--password", "an-insightful-password",
    )  # fmt: skip
    live_server.cli("insight", "load-demo")
    token = live_server.cli(
        "tokens", "create", "--name", "browser test",
        "--scope", "customers:write", "--scope", "insight:write",
    ).strip().splitlines()[-1]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    made = httpx.post(
        f"{live_server.url}/api/v1/customers",
        json={"name": "Karen Holm", "locale": "da-DK", "time_zone": "Europe/Copenhagen"},
        headers=headers,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    sent = httpx.post(
        f"{live_server.url}/api/v1/insight/feedback",
        json={
            "items": [
                {
                    "text": KAREN_SAYS,
                    "channel": "email",
                    "customer_id": made.json()["id"],
                    "locale": "da-DK",
                }
            ]
        },
        headers=headers,
        timeout=120,
    )
    assert sent.status_code in (200, 201), sent.text
    return "ines@example.com", "an-insightful-password"


def _look(page, name: str, tmp_path: Path) -> None:
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if keep := os.environ.get("TILLIT_KEEP_SCREENSHOTS"):  # to look at them
        shutil.copy(shot, Path(keep) / shot.name)
    assert scrolls_sideways(page) == 0
    assert serious_violations(page) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_themes_filters_and_click_through(live_server, browser, analyst, width, tmp_path):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("E-mail").fill(analyst[0])
        page.get_by_label("Password").fill(analyst[1])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff/insight")
        expect(page.get_by_role("heading", name="Feedback themes", level=1)).to_be_visible()
        names = page.locator("table.data tbody tr td:first-child").all_inner_texts()
        assert len(names) >= 5
        assert not [n for n in names if "·" in n or "theme-" in n], names  # plain words
        assert "Prices" in names and "The app" in names
        _look(page, f"themes-{width}", tmp_path)

        # Filters: Danish negative comments only; every figure follows.
        page.get_by_label("Language").select_option(label="Danish")
        page.get_by_label("Sentiment").select_option(label="Negative")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"language=da&.*sentiment=negative"))
        for lang in page.locator("section.card ul[lang]").evaluate_all(
            "els => els.map(e => e.lang)"
        ):
            assert lang == "da"

        # A comment from e-mail (only Karen's) to its theme's comments, then to Karen.
        page.goto(f"{live_server.url}/staff/insight/comments?channel=email")
        expect(page.get_by_text("1 comment.")).to_be_visible()
        row = page.locator("tbody tr", has_text=KAREN_SAYS)
        theme = row.locator("td").nth(4).inner_text()
        assert theme and "·" not in theme
        row.get_by_role("link", name=theme).click()
        expect(page.get_by_role("heading", name=f"Comments about {theme}", level=1)).to_be_visible()
        assert page.locator("tbody tr").count() > 1  # the demo's comments in that theme too
        _look(page, f"comments-{width}", tmp_path)
        page.locator("tbody tr", has_text=KAREN_SAYS).get_by_role("link", name="Karen Holm").click()
        expect(page.get_by_role("heading", name="Karen Holm")).to_be_visible()
    finally:
        context.close()
