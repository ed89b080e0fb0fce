"""The OpenAPI document, completed: every error answer a route can give, as a Problem.

FastAPI describes what it sees in the signatures (bodies, parameters, their limits, the 422).
What happens around them is added here, once for every operation, rather than by hand in each
decorator: 401/403 where a token is needed, 404 where the path names something, 400 and 422
where there is input, 405 (with ``Allow``) everywhere, and a route's own problem answers
(``responses={409: PROBLEM}``) get the Problem schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tillit.web.problems import FIELD_ERROR_SCHEMA, HTTP_TITLES, MEDIA_TYPE, PROBLEM_SCHEMA

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WHEN = {
    400: "The body could not be read (not JSON, not an object, bad gzip)",
    401: "No credentials, or credentials that are not valid",
    403: "The token lacks the scope this operation needs",
    404: "What the path (or the body) names does not exist",
    405: "Not a method of this path; Allow lists those that are",
    409: "It conflicts with what is stored (e.g. an identity that is someone else's)",
    413: "The body is larger than this operation takes",
    422: "The input breaks a rule; errors names each bad field",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": 'Bearer; on /v1/*: Basic realm="tracking"',
        }
    },
    405: {"Allow": {"required": True, "schema": {"type": "string"}, "description": "e.g. GET"}},
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def install(
    app: FastAPI,
    *,
    models: Iterable[type[BaseModel]] = (),
    security_schemes: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Make ``app.openapi()`` return the completed document. ``models``: schemas that routes
    refer to without FastAPI seeing them (the tracking API's documentation-only bodies)."""
    build: Callable[[], dict[str, Any]] = app.openapi
    extra_models = list(models)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # FastAPI keeps what it built; complete it once
            complete(build(), models=extra_models, security_schemes=security_schemes or {})
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def complete(
    document: dict[str, Any],
    *,
    models: list[type[BaseModel]],
    security_schemes: dict[str, dict[str, Any]],
) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, never sent
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldError"] = FIELD_ERROR_SCHEMA
    if models:
        _, defs = models_json_schema(
            [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
        )
        schemas.update(defs.get("$defs", {}))
    components.setdefault("securitySchemes", {}).update(security_schemes)
    components["responses"] = {_name(code): _response(code) for code in WHEN}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                _describe_errors(path, item[method])


def _describe_errors(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    codes.add(405)
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add(422)
    if operation.get("requestBody"):
        codes.add(400)
    security = [name for need in operation.get("security", []) for name in need]
    if security:
        codes.add(401)
    if "HTTPBearer" in security:  # API tokens carry scopes; write keys do not
        codes.add(403)
    if "{" in path:
        codes.add(404)
    for code in sorted(codes):
        if code in WHEN:
            responses[str(code)] = {"$ref": f"#/components/responses/{_name(code)}"}
        else:  # a rarer answer a route declared itself: keep its words, give it the schema
            responses[str(code)]["content"] = {MEDIA_TYPE: {"schema": PROBLEM_REF}}


def _name(code: int) -> str:
    return HTTP_TITLES[code].title().replace(" ", "")


def _response(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": WHEN[code],
        "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }
    if code in HEADERS:
        response["headers"] = HEADERS[code]
    return response
