"""The match review page with real suggestions (a customer import deduplicated by `tillit match
run`): readable at 1280 and 390 px, no sideways scroll, no serious or critical axe violation."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations
from tests.identity.synthetic import two_systems


@pytest.fixture(scope="module")
def reviewer(live_server, tmp_path_factory):
    live_server.cli(
        "users", "create", "--email", "rita@example.com", "--name", "Rita Review",
        "--role", "admin", "--password", "a-long-review-password",
    )  # fmt: skip
    store, web = two_systems(80, seed=12)
    shared = {r.person for r in store}
    path: Path = tmp_path_factory.mktemp("members") / "members.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["loyalty_card", "name", "trait.firstName", "trait.lastName",
                         "trait.birthday", "trait.postcode"])  # fmt: skip
        for r in store + [r for r in web if r.person in shared]:
            name = " ".join(p for p in (r.first_name, r.last_name) if p)
            writer.writerow([r.record_id, name, r.first_name,
                             r.last_name, r.birth_date, r.postcode])  # fmt: skip
    live_server.cli("import", "customers", str(path))
    live_server.cli("match", "run", "import:members.csv")
    return "rita@example.com", "a-long-review-password"


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("status", ["open", "auto"])
def test_the_match_page_is_accessible_at_both_widths(
    live_server, browser, reviewer, width, status, tmp_path
):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("E-mail").fill(reviewer[0])
        page.get_by_label("Password").fill(reviewer[1])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff/matches?status={status}")
        expect(page.get_by_role("heading", name="Matches to review", level=1)).to_be_visible()
        expect(page.get_by_text("likely the same person").first).to_be_visible()
        shot = tmp_path / f"matches-{status}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        if keep := os.environ.get("TILLIT_KEEP_SCREENSHOTS"):  # to look at them
            shutil.copy(shot, Path(keep) / shot.name)
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []
    finally:
        context.close()
