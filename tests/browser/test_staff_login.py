"""A staff member signs in with real Chromium and finds a customer."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_staff_signs_in_and_finds_a_customer(live_server, page, tmp_path):
    live_server.cli(
        "users",
        "create",
        "--email",
        "agnes@example.com",
        "--name",
        "Agnes Agent",
        "--role",
        "agent",
        "--password",
        "a-long-browser-password",
    )
    people = tmp_path / "people.csv"
    people.write_text(
        "name,email,phone,locale,time_zone,country\n"
        "Sigrid Bakke,sigrid.bakke@example.com,+47 912 34 567,nb-NO,Europe/Oslo,NO\n"
        "Maarten de Groot,maarten@example.com,+31 6 12345678,nl-NL,Europe/Amsterdam,NL\n",
        encoding="utf-8",
    )
    live_server.cli("import", "customers", str(people))

    page.goto(f"{live_server.url}/staff/customers")
    expect(page).to_have_url(re.compile(r"/staff/login"))
    page.get_by_label("E-mail").fill("agnes@example.com")
    page.get_by_label("Password").fill("a-long-browser-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    page.get_by_label("Search customers").fill("+47 91234567")
    page.keyboard.press("Enter")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(1)
    page.get_by_role("link", name="Sigrid Bakke").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sigrid Bakke")
    expect(page.get_by_text("sigrid.bakke@example.com")).to_be_visible()
    expect(page.get_by_text("+4791234567")).to_be_visible()
    page.screenshot(path=str(tmp_path / "customer.png"), full_page=True)
