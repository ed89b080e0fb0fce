"""CORS for the tracking API (``/v1/*``) alone: any origin may send events, as to Segment.

A write key is public (it sits in every page that tracks), so the browser's same-origin rule
protects nothing here, and a company's own site is another origin than its Tillit. No
credentials are allowed: the key travels in the Authorization header or the body, never in a
cookie. Every other path keeps the app's own CORS (only ``TILLIT_WIDGET_ORIGINS``, for the
dialogue widget), which this middleware never sees: it answers /v1 preflights itself and
hides /v1 requests' Origin from the middleware inside it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/v1/"
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")
PREFLIGHT_HEADERS = [
    ALLOW_ORIGIN,
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    # Content-Encoding: Segment's libraries may gzip a batch.
    (b"access-control-allow-headers", b"Authorization, Content-Type, Content-Encoding"),
    (b"access-control-max-age", b"86400"),  # a browser asks once a day, not per batch
    (b"content-length", b"0"),
]


class TrackingCorsMiddleware:
    """Plain ASGI, as tillit.web.security's: it adds one header to the tracking API's answers
    and costs other paths one string comparison."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if scope["method"] == "OPTIONS":  # a preflight, or a plain OPTIONS: the same answer
            await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return
        if not any(name == b"origin" for name, _ in headers):
            await self.app(scope, receive, send)  # not a browser's cross-origin call
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), ALLOW_ORIGIN]
            await send(message)

        # The widget's CORSMiddleware (inside) would answer for its own origins only.
        inner = {**scope, "headers": [(n, v) for n, v in headers if n != b"origin"]}
        await self.app(inner, receive, send_with_origin)
