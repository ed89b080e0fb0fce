"""Domain errors. Faces translate them: the API into RFC 9457 problems (each error's HTTP
status is the web layer's choice, :data:`tillit.web.problems.HTTP_STATUS`), the CLI into
messages.

TillitError
├── InvalidInput      one or more fields are wrong (each FieldError names its field)
├── NotFound
├── Conflict          e.g. an identity already belongs to another customer
├── PermissionDenied
└── Unauthenticated
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class TillitError(Exception):
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(TillitError):
    title = "Invalid input"
    slug = "invalid-input"

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class NotFound(TillitError):
    title = "Not found"
    slug = "not-found"


class Conflict(TillitError):
    title = "Conflict"
    slug = "conflict"


class PermissionDenied(TillitError):
    title = "Forbidden"
    slug = "forbidden"


class Unauthenticated(TillitError):
    title = "Unauthenticated"
    slug = "unauthenticated"


def field_path(location: Sequence[Any]) -> str:
    """``("identities", 0, "value")`` -> ``identities[0].value``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def invalid_fields(items: Iterable[Mapping[str, Any]]) -> InvalidInput:
    """Pydantic's ``ValidationError.errors()`` as the domain's InvalidInput, so a form that
    builds an API schema reports the API's own rules, field by field."""
    return InvalidInput(
        [FieldError(field_path(item.get("loc", ())) or "body", item["msg"]) for item in items]
    )


def json_document(text: bytes | str) -> Any:
    """A definition file's JSON, or InvalidInput naming the line and column of its syntax
    error (campaign and experiment definitions alike)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            FieldError(
                "file", f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            )
        ) from error
