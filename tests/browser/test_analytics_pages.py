"""The analytics pages in Chromium at 1280 and 390 px over a demo-like shop lake: the funnel
with its drop-off, goals by channel with their ranges, and the cohort triangle; "Add a step"
works without JavaScript; axe-core finds no serious violation and nothing scrolls sideways.
Screenshots are left in the test's temporary folder for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from tests.analytics.shop_lake import write_shop_lake
from tests.browser.axe import scrolls_sideways, serious_violations


def test_funnel_goals_and_cohorts_pages(live_server, browser, tmp_path):
    # Events only: the server's own jobs keep the snapshots of the (empty) database.
    write_shop_lake(Path(live_server.env["TILLIT_DATA_DIR"]), with_customers=False)
    live_server.cli(
        "users",
        "create",
        *("--email", "anders.funnel@example.com", "--name", "Anders Holm"),
        *("--role", "analyst", "--password", "a-long-browser-password"),
    )
    live_server.cli(
        "analytics",
        "define-goal",
        "shop-orders",
        *("--event", "Order Completed", "--value", "revenue", "--name", "Orders in the shop"),
    )
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{live_server.url}/staff/analytics/funnels")
        expect(page).to_have_url(re.compile(r"/staff/login"))
        page.get_by_label("E-mail").fill("anders.funnel@example.com")
        page.get_by_label("Password").fill("a-long-browser-password")
        page.get_by_role("button", name="Sign in").click()

        page.goto(f"{live_server.url}/staff/analytics/funnels")
        expect(page.get_by_role("heading", name="Funnels", exact=True)).to_be_visible()
        chart = page.locator("svg.chart")
        expect(chart).to_be_visible()
        expect(chart).to_contain_text("−33 dropped")
        rows = page.locator("table.data").first.locator("tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.nth(3)).to_contain_text("Order Completed")
        expect(rows.nth(3)).to_contain_text("59")
        page.screenshot(path=str(tmp_path / f"funnel-{width}.png"), full_page=True)
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0
        page.get_by_role("button", name="Add a step").click()
        expect(page.get_by_label("Step 5")).to_be_visible()

        page.get_by_role("link", name="Goals", exact=True).click()
        expect(page.get_by_role("heading", name="Orders in the shop")).to_be_visible()
        goal = page.locator("section.card").filter(has_text="Orders in the shop")
        expect(goal.locator("svg.chart rect.chart-bar")).to_have_count(3)  # app, e-mail, web
        expect(goal.locator("tbody tr").first).to_contain_text("%")
        page.screenshot(path=str(tmp_path / f"goals-{width}.png"), full_page=True)
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0

        page.get_by_role("link", name="Cohorts", exact=True).click()
        triangle = page.locator("table.heat")
        expect(triangle).to_be_visible()
        expect(triangle.locator("tbody tr").first).to_contain_text("2026-09-07")
        expect(triangle.locator("td.heat-5").first).to_have_text("100%")
        page.screenshot(path=str(tmp_path / f"cohorts-{width}.png"), full_page=True)
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0
        context.close()
    print(f"screenshots in {tmp_path}")


def test_the_segment_builder_adds_rules_by_submitting(live_server, browser, tmp_path):
    live_server.cli(
        "users",
        "create",
        *("--email", "berit.builder@example.com", "--name", "Berit Dahl"),
        *("--role", "analyst", "--password", "a-long-browser-password"),
    )
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("E-mail").fill("berit.builder@example.com")
        page.get_by_label("Password").fill("a-long-browser-password")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/staff/segments")
        page.get_by_label("Key", exact=True).fill(f"shoppers-{width}")
        page.get_by_label("Name", exact=True).fill("Frequent Nordic shoppers")
        page.locator("#rule-1-kind").select_option("events")
        page.locator("#rule-1-value").fill("Order Completed")
        page.locator("#rule-1-at-least").fill("2")
        page.locator("#rule-1-days").fill("90")
        page.get_by_role("button", name="Add a rule").click()
        expect(page.get_by_role("group", name="Rule 2")).to_be_visible()
        expect(page.locator("#rule-1-value")).to_have_value("Order Completed")
        page.locator("#rule-2-kind").select_option("country")
        page.locator("#rule-2-value").fill("se, no")
        page.screenshot(path=str(tmp_path / f"builder-{width}.png"), full_page=True)
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0
        page.get_by_role("button", name="Save the segment").click()
        expect(page.get_by_role("status")).to_contain_text(f"Segment shoppers-{width} saved")
        row = page.locator("table.data tbody tr").filter(has_text=f"shoppers-{width}")
        expect(row).to_contain_text("Frequent Nordic shoppers")
        context.close()
