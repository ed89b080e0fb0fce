"""The themes explorer in real Chromium, on the five-language demo feedback."""

from __future__ import annotations

from playwright.sync_api import expect


def test_demo_feedback_shows_cross_language_themes(live_server, page, tmp_path):
    live_server.cli(
        "users",
        "create",
        "--email",
        "anders@example.com",
        "--name",
        "Anders",
        "--role",
        "analyst",
        "--password",
        "an-analyst-password",
    )
    live_server.cli("insight", "load-demo")
    page.goto(f"{live_server.url}/staff/login")
    page.get_by_label("E-mail").fill("anders@example.com")
    page.get_by_label("Password").fill("an-analyst-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Themes", exact=True).click()
    expect(page.get_by_role("heading", name="Feedback themes")).to_be_visible()
    sections = page.locator("section.card[id^=theme-]")
    assert sections.count() >= 5
    languages_per_theme = [
        set(sections.nth(i).locator("ul[lang]").evaluate_all("els => els.map(e => e.lang)"))
        for i in range(sections.count())
    ]
    # Themes group by topic, not by language: most hold comments in three or more languages,
    # and at least one holds Danish and Dutch side by side.
    assert sum(len(langs) >= 3 for langs in languages_per_theme) >= len(languages_per_theme) / 2
    assert any({"da", "nl"} <= langs for langs in languages_per_theme)
    page.screenshot(path=str(tmp_path / "themes.png"), full_page=True)
