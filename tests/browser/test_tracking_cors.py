"""A company's own web site, on another origin than its Tillit, tracks an event from the
browser with fetch(): the preflight and the call pass CORS, and the event is stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest
from playwright.sync_api import expect

# The shop's page: JSON with Basic credentials, so Chromium sends a preflight first.
SHOP_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Butik</title></head>
<body>
<button id="buy">Køb</button>
<output id="answer"></output>
<script>
document.getElementById("buy").addEventListener("click", async () => {
  const out = document.getElementById("answer");
  try {
    const response = await fetch(TILLIT + "/v1/track", {
      method: "POST",
      headers: {
        "Authorization": "Basic " + btoa(WRITE_KEY + ":"),
        "Content-Type": "application/json",
      },
      body: JSON.stringify(MESSAGE),
    });
    out.textContent = response.status + " " + JSON.stringify(await response.json());
  } catch (error) {
    out.textContent = "blocked: " + error;
  }
});
</script>
</body></html>
"""
MESSAGE = {
    "userId": "kunde-cors-1",
    "event": "Ordre gennemført",
    "messageId": "shop-cors-1",
    "properties": {"beløb": 249},
}


@pytest.fixture
def shop_site(live_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(the shop's URL, its write key): a second origin, another port on loopback."""
    output = live_server.cli("sources", "create", "butik-cors", "--channel", "web")
    key = output.strip().splitlines()[-1].strip()
    script = (
        f"const TILLIT = {orjson.dumps(live_server.url).decode()};\n"
        f"const WRITE_KEY = {orjson.dumps(key).decode()};\n"
        f"const MESSAGE = {orjson.dumps(MESSAGE).decode()};\n"
    )
    page = SHOP_PAGE.replace("<script>\n", f"<script>\n{script}").encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", key
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_tracks_with_fetch(live_server, shop_site, page) -> None:  # type: ignore[no-untyped-def]
    shop_url, key = shop_site
    assert not shop_url.startswith(live_server.url)  # another origin: another port
    page.goto(shop_url)
    page.get_by_role("button", name="Køb").click()
    expect(page.locator("#answer")).to_contain_text('200 {"success":true,"accepted":1')
    # The same messageId again, from a server: already stored, exactly once.
    again = httpx.post(f"{live_server.url}/v1/track", json=MESSAGE, auth=(key, ""), timeout=10)
    assert again.json()["duplicates"] == 1
