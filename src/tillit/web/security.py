"""Response headers every page and API answer carries."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline scripts or third-party origins anywhere: every asset is served from /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# Pages and answers may hold personal data (the preference centre, staff customer pages,
# exports, every API answer), so no browser or proxy may keep a copy. Only what holds none
# may be cached: assets, health checks, the problem-type pages and the API's own description.
NO_STORE = (b"cache-control", b"no-store")
PUBLIC_PREFIXES = (
    "/static/",
    "/healthz",
    "/readyz",
    "/problems/",
    "/api/v1/openapi.json",
    "/api/v1/docs",
)


def may_be_stored(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


class SecurityHeadersMiddleware:
    """Plain ASGI rather than BaseHTTPMiddleware: no extra task and queue per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = HEADERS if may_be_stored(scope["path"]) else [*HEADERS, NO_STORE]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in headers if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
