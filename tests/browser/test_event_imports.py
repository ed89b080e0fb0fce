"""A staff member sends a file of events from the Imports page and watches it complete."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_staff_sends_an_event_file_and_sees_it_imported(live_server, page, tmp_path):
    live_server.cli(
        "users",
        "create",
        "--email",
        "birgitta@example.com",
        "--name",
        "Birgitta Berg",
        "--role",
        "admin",  # only admins import events (README, Staff roles)
        "--password",
        "a-long-browser-password",
    )
    live_server.cli("sources", "create", "kassasystem", "--channel", "store")
    events = tmp_path / "kassa-v48.csv"
    events.write_text(
        "type,userId,event,messageId,properties.belopp\n"
        "track,kund-1,Köp,kassa-1,249\n"
        "track,kund-2,Köp,kassa-2,99\n"
        "track,kund-1,,kassa-3,10\n",
        encoding="utf-8",
    )

    page.goto(f"{live_server.url}/staff/imports")
    expect(page).to_have_url(re.compile(r"/staff/login"))
    page.get_by_label("E-mail").fill("birgitta@example.com")
    page.get_by_label("Password").fill("a-long-browser-password")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/staff/imports")
    expect(page.get_by_role("heading", name="Event imports")).to_be_visible()

    page.get_by_label("Source").select_option("kassasystem")
    page.get_by_label("File", exact=True).set_input_files(str(events))
    page.get_by_role("button", name="Import").click()
    row = page.locator("table.data tbody tr").filter(has_text="kassa-v48.csv")
    expect(row).to_contain_text("queued")

    live_server.cli("import", "queued")  # what the jobs process does every round
    page.reload()
    expect(row).to_contain_text("done")
    expect(row).to_contain_text("3 / 3 lines")
    expect(row.locator("progress")).to_have_attribute("value", "3")
    expect(row.get_by_role("link", name="1")).to_have_attribute("href", re.compile(r"/rejects$"))
    page.screenshot(path=str(tmp_path / "imports.png"), full_page=True)
