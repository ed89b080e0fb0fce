"""The tracking API's messages as the OpenAPI document shows them: for documentation only.

The /v1/* routes read the raw body and check it with ``tillit.events.spec`` (faster than a
pydantic model per event, and a batch keeps its good messages when some are bad); these models
describe the same rules for readers and for generated clients. Limits come from that module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from tillit.events.models import EventType
from tillit.events.spec import MAX_BATCH_BYTES, MAX_EVENT_BYTES, MAX_ID_LENGTH
from tillit.web.problems import PROBLEM

WRITE_KEY_SCHEME = "WriteKey"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "basic",
    "description": "The source's write key (`tillit sources create`) as the user name, with "
    "an empty password; or `writeKey` in the body, as Segment's libraries send it.",
}
SECURITY: list[dict[str, list[str]]] = [{WRITE_KEY_SCHEME: []}]
# Blank counts as missing; numbers are taken too (as text).
Identifier = Annotated[str, Field(max_length=MAX_ID_LENGTH, pattern=r"\S")] | int
# Null where an object belongs is refused; elsewhere null counts as left out.
Omitted = SkipJsonSchema[None]
Part = dict[str, Any] | Omitted
# userId or anonymousId, at least one not null (tillit.events.spec.parse_message)
SOMEONE: JsonDict = {
    "anyOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in ("userId", "anonymousId")
    ]
}


class _Common(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=SOMEONE)

    userId: Identifier | None = None
    anonymousId: Identifier | None = None
    messageId: Annotated[str, Field(max_length=MAX_ID_LENGTH)] | None = Field(
        None, description="Resends with the same id are stored once; default: a content hash"
    )
    timestamp: datetime | None = Field(None, description="When it happened; default now")
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = Field(None, description="The device's clock when it sent it")
    context: Part = Field(None, description="context.channel names the channel")
    integrations: Part = None
    properties: Part = None
    traits: Part = None


class IdentifyCall(_Common):
    pass


class TrackCall(_Common):
    event: Identifier


class PageCall(_Common):
    name: Annotated[str, Field(max_length=MAX_ID_LENGTH)] | None = None


class ScreenCall(PageCall):
    pass


class GroupCall(_Common):
    groupId: Identifier


class AliasCall(_Common):
    model_config = ConfigDict(json_schema_extra={})  # userId is required outright

    previousId: Identifier
    userId: Identifier


CALLS: dict[EventType, type[BaseModel]] = {
    EventType.identify: IdentifyCall,
    EventType.track: TrackCall,
    EventType.page: PageCall,
    EventType.screen: ScreenCall,
    EventType.group: GroupCall,
    EventType.alias: AliasCall,
}


class BatchMessage(BaseModel):
    """One message of a batch: the fields of its ``type``'s call."""

    model_config = ConfigDict(extra="allow", json_schema_extra=SOMEONE)

    type: Literal["identify", "track", "page", "screen", "group", "alias"]
    userId: Identifier | None = None
    anonymousId: Identifier | None = None


class Batch(BaseModel):
    model_config = ConfigDict(extra="allow")

    batch: list[BatchMessage] = Field(description="Good messages are kept when others are bad")
    sentAt: datetime | None = None


class Rejected(BaseModel):
    field: str
    index: int
    messageId: str | None
    message: str


class TrackingAnswer(BaseModel):
    success: Literal[True]
    accepted: int = Field(description="Messages stored now")
    duplicates: int = Field(description="Messages already stored (same messageId)")
    rejected: list[Rejected] = Field(description="Bad messages of a batch with good ones")
    merges: int = Field(description="Profiles merged because of these messages")


MODELS: list[type[BaseModel]] = [*CALLS.values(), Batch, TrackingAnswer]


def route_docs(model: type[BaseModel], *, limit: int) -> dict[str, Any]:
    """``openapi_extra`` for one route: the body it reads, its limit and who may call it."""
    return {
        "security": SECURITY,
        "requestBody": {
            "required": True,
            "description": f"At most {limit} bytes (after gzip, which is accepted).",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        },
    }


def call_docs(kind: EventType) -> dict[str, Any]:
    return route_docs(CALLS[kind], limit=MAX_EVENT_BYTES)


def batch_docs() -> dict[str, Any]:
    return route_docs(Batch, limit=MAX_BATCH_BYTES)


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": TrackingAnswer, "description": "Stored and committed"},
    400: PROBLEM,
    413: PROBLEM,
}
