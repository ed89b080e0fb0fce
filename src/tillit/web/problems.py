"""RFC 9457 problem details for the API; friendly HTML error pages everywhere else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tillit.consent.links import LinkGone
from tillit.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TillitError,
    Unauthenticated,
    field_path,
)
from tillit.events.import_jobs import FileTooLarge

MEDIA_TYPE = "application/problem+json"
HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
}
# The HTTP status of each domain error: the nearest class listed wins, anything else is a 500.
HTTP_STATUS: dict[type[TillitError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    Unauthenticated: 401,
    LinkGone: 410,
    FileTooLarge: 413,
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# A route's ``responses={409: PROBLEM}`` says "this status, as a problem";
# tillit.web.openapi gives every such answer the Problem schema below.
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "e.g. identities[0].value, or body"},
        "message": {"type": "string"},
        "index": {"type": "integer", "description": "The message's place in a batch"},
        "messageId": {"type": ["string", "null"]},
    },
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Explained at this URL"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The path that was asked"},
        "errors": {
            "type": "array",
            "description": "Each bad field, when the input was at fault",
            "items": {"$ref": "#/components/schemas/FieldError"},
        },
    },
}


def problem_body(
    request: Request, *, status: int, title: str, detail: str, slug: str, **extra: Any
) -> dict[str, Any]:
    """The RFC 9457 object itself, for answers that carry it inside another body."""
    base = str(request.app.state.settings.base_url).rstrip("/")
    return {
        "type": f"{base}/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }


def problem(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    slug: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(request, status=status, title=title, detail=detail, slug=slug, **extra)
    headers = dict(headers or {})
    if status == 401:  # the tracking API takes a write key as Basic credentials, the rest tokens
        tracking = request.url.path.startswith("/v1/")
        headers["WWW-Authenticate"] = 'Basic realm="tracking"' if tracking else "Bearer"
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def http_status(error: TillitError) -> int:
    return next((HTTP_STATUS[kind] for kind in type(error).__mro__ if kind in HTTP_STATUS), 500)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/v1/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    from tillit.web.pages.errors import error_page  # pages import the app's helpers, not vice versa

    @app.exception_handler(TillitError)
    async def _domain_error(request: Request, error: TillitError) -> Response:
        if _wants_html(request):
            if isinstance(error, Unauthenticated):
                from fastapi.responses import RedirectResponse

                return RedirectResponse(f"/staff/login?next={request.url.path}", status_code=303)
            status = http_status(error)
            return error_page(request, status=status, title=error.title, detail=error.detail)
        extra: dict[str, Any] = {}
        if isinstance(error, InvalidInput):
            extra["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
        return problem(
            request,
            status=http_status(error),
            title=error.title,
            detail=error.detail,
            slug=error.slug,
            **extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> Response:
        errors = [
            {"field": _field_path(item.get("loc", ())), "message": item.get("msg", "invalid")}
            for item in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if _wants_html(request):
            return error_page(request, status=422, title="Invalid input", detail=detail)
        return problem(
            request,
            status=422,
            title="Invalid input",
            detail=detail,
            slug="invalid-input",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        title = HTTP_TITLES.get(error.status_code, "Error")
        detail = str(error.detail) if error.detail else title
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        if _wants_html(request):
            page = error_page(request, status=error.status_code, title=title, detail=detail)
            page.headers.update(headers)
            return page
        return problem(  # the error's headers too: a 405's Allow says which methods work
            request,
            status=error.status_code,
            title=title,
            detail=detail,
            slug=title.lower().replace(" ", "-"),
            headers=headers,
        )


def _allowed_methods(request: Request) -> str:
    """Every method of the path. Starlette's own ``Allow`` names only those of the first route
    that matched the path, and a path often has several (GET and PATCH of one customer)."""
    bare = {
        "type": "http",
        "path": request.scope["path"],
        "root_path": request.scope.get("root_path", ""),
    }
    return ", ".join(
        method
        for method in METHODS
        if any(
            route.matches({**bare, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    )


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "identities", 0, "value")`` -> ``identities[0].value``."""
    parts = list(location)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        where, parts = parts[0], parts[1:]
        if where != "body" and parts:
            parts[0] = f"{parts[0]}"
    return field_path(parts) or "body"
