"""An admin sees the experiments with the people exposed per variant, and stops one; axe-core
finds no serious or critical violation, and the page does not scroll sideways on a phone."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations


@pytest.fixture(scope="module")
def admin(live_server, tmp_path_factory):
    live_server.cli(
        "users", "create", "--email", "erik@example.com", "--name", "Erik Experiment",
        "--role", "admin", "--password", "a-long-experiment-password",
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("experiments")
    people = folder / "people.csv"
    people.write_text(
        "name,email,locale,time_zone,country\n"
        + "".join(
            f"Person {n},person{n}@example.com,da-DK,Europe/Copenhagen,DK\n" for n in range(6)
        ),
        encoding="utf-8",
    )
    live_server.cli("import", "customers", str(people))
    for key, name, start in (
        ("newsletter-subject", "Newsletter subject line", True),
        ("checkout-copy", "Checkout button copy", False),
    ):
        spec = folder / f"{key}.json"
        spec.write_text(
            json.dumps(
                {
                    "key": key,
                    "name": name,
                    "hypothesis": "A question in the subject line gets more letters opened.",
                    "variants": [
                        {"key": "control", "weight": 1, "description": "The usual subject line"},
                        {"key": "question", "weight": 1, "description": "A question"},
                    ],
                    "primary_goal": "email-opened",
                }
            ),
            encoding="utf-8",
        )
        live_server.cli("experiments", "create", str(spec))
        if start:
            live_server.cli("experiments", "start", key)
    for customer in range(1, 7):
        live_server.cli("experiments", "assign", "newsletter-subject", str(customer))
    return "erik@example.com", "a-long-experiment-password"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_experiments_page_is_accessible_at_both_widths(
    live_server, browser, admin, width, tmp_path
):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("E-mail").fill(admin[0])
        page.get_by_label("Password").fill(admin[1])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff/experiments")
        expect(page.get_by_role("heading", name="Experiments", level=1)).to_be_visible()
        running = page.locator("section.card").filter(has_text="Newsletter subject line")
        expect(running).to_contain_text("Running")
        counts = running.locator("tbody td.num:nth-child(3)").all_inner_texts()
        assert sum(int(c) for c in counts) == 6
        expect(page.get_by_role("button", name="Start this experiment")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"experiments-{width}.png"), full_page=True)
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []
    finally:
        context.close()
