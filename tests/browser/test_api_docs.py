"""/api/v1/docs renders the API's operations in Chromium from the vendored Swagger UI, under the
app's own Content-Security-Policy and with no network beyond this server (it was blank: the CSP
blocked Swagger UI's CDN files)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_api_docs_render_their_operations_offline(live_server, page, tmp_path):
    outside: list[str] = []
    violations: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("Tillit API").first).to_be_visible()
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/customers").first
    ).to_be_visible()
    page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    assert outside == [] and violations == []
