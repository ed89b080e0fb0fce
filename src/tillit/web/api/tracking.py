"""The Segment-compatible HTTP tracking API: /v1/identify, track, page, screen, group, alias, batch.

Authenticate with the source's write key as the HTTP Basic user name (empty password), or as
``writeKey`` in the body, as Segment's libraries do. The answer comes only after the commit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import zlib
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.errors import FieldError, InvalidInput, Unauthenticated
from tillit.events.ingest import IngestResult
from tillit.events.models import EventType
from tillit.events.sources import SourceRef, source_for_key
from tillit.events.spec import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    NUL_ESCAPE,
    InvalidMessage,
    parse_time,
)
from tillit.events.tracking import Receiving, parse_batch, receive_batch
from tillit.identity.rules import IdentityRules, load_rules
from tillit.storage.base import utcnow
from tillit.storage.writer import Writer
from tillit.web.api import tracking_docs
from tillit.web.deps import client_ip, get_defaults
from tillit.web.expiring import ExpiringCache
from tillit.web.problems import problem

router = APIRouter(prefix="/v1", tags=["tracking"])


def _rules(request: Request) -> IdentityRules:
    rules = getattr(request.app.state, "identity_rules", None)
    if rules is None:
        rules = request.app.state.identity_rules = load_rules()
    return rules


SOURCE_CACHE_SECONDS = 10.0  # a disabled source's key stops working within this long


async def _source(request: Request, key: str) -> SourceRef:
    """The source of a write key, asked of the database at most every SOURCE_CACHE_SECONDS
    per key and worker (see tillit.web.expiring)."""
    cache: ExpiringCache[SourceRef] = request.app.state.source_cache
    source = cache.get(key)
    if source is None:
        source = await run_in_threadpool(_look_up_source, request, key)  # unknown: raises
        cache.put(key, source)
    return source


def _look_up_source(request: Request, key: str) -> SourceRef:
    with request.app.state.read_sessions() as session:
        return source_for_key(session=session, write_key=key)


def _write_key(request: Request, body: dict[str, Any]) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, _ = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise Unauthenticated("the Basic credentials are not valid base64") from error
        if user:
            return user
    key = body.get("writeKey")
    if isinstance(key, str) and key:
        return key
    raise Unauthenticated("send the source's write key as the HTTP Basic user name")


async def _receive(request: Request, kind: str | None) -> Response:
    received_at = utcnow()
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:  # Segment's libraries may gzip; the limits apply to what is inside
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            return problem(
                request,
                status=400,
                title="Bad request",
                slug="bad-request",
                detail="the body is not valid gzip",
            )
    limit = MAX_BATCH_BYTES if kind is None else MAX_EVENT_BYTES
    if len(raw) > limit:
        return problem(
            request,
            status=413,
            title="Content too large",
            slug="content-too-large",
            detail=f"the body is {len(raw)} bytes; at most {limit} bytes",
        )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return problem(
            request,
            status=400,
            title="Bad request",
            slug="bad-request",
            detail=f"the body is not JSON: {error}",
        )
    if not isinstance(body, dict):
        return problem(
            request,
            status=400,
            title="Bad request",
            slug="bad-request",
            detail="the body must be a JSON object",
        )
    key = _write_key(request, body)
    items = body.get("batch") if kind is None else [body]
    if not isinstance(items, list):
        raise InvalidInput([FieldError("batch", "must be a list of messages")])
    try:
        sent_at = parse_time(body.get("sentAt"), "sentAt") if kind is None else None
    except InvalidMessage as error:
        raise InvalidInput([FieldError("sentAt", str(error))]) from error
    result = await _store(request, key, kind, items, received_at, sent_at, NUL_ESCAPE in raw)
    return _answer(request, result, single=kind is not None)


async def _store(
    request: Request,
    key: str,
    kind: str | None,
    items: list[Any],
    received_at: datetime,
    sent_at: datetime | None,
    may_hold_nul: bool,
) -> IngestResult:
    """Returns once the batch is committed (tillit.events.tracking.receive_batch). Parsing,
    identity links and binding happen here, in the event loop, while the writer writes other
    requests' batches; only the write itself goes to the writer."""
    state = request.app.state
    source = await _source(request, key)
    receiving = Receiving(
        source,
        _rules(request),
        get_defaults(state.settings),
        Actor(type="source", id=str(source.id), label=f"source {source.name}"),
    )
    writer: Writer = state.writer
    batch = parse_batch(
        items,
        writer=writer,
        receiving=receiving,
        type_=kind,
        received_at=received_at,
        sent_at=sent_at,
        may_hold_nul=may_hold_nul,
    )
    gpc = (
        Evidence(ip=client_ip(request), user_agent=request.headers.get("user-agent"), gpc=True)
        if request.headers.get("sec-gpc") == "1"
        else None
    )
    return await asyncio.wrap_future(receive_batch(writer, batch, receiving, gpc=gpc))


def _answer(request: Request, result: IngestResult, *, single: bool) -> Response:
    errors = [
        {
            "field": f"batch[{r.index}]" if not single else "body",
            "index": r.index,
            "messageId": r.message_id,
            "message": r.reason,
        }
        for r in result.rejected
    ]
    if errors and not result.accepted and not result.duplicates:
        return problem(
            request,
            status=400,
            title="Invalid message",
            slug="invalid-message",
            detail="; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )
    answer = {
        "success": True,
        "accepted": len(result.accepted),
        "duplicates": len(result.duplicates),
        "rejected": errors,
        "merges": result.merges,
    }
    # orjson, not JSONResponse's json.dumps: this answer goes out for every batch.
    return Response(orjson.dumps(answer), media_type="application/json")


def _endpoint(kind: str | None) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _receive(request, kind)

    endpoint.__name__ = f"tracking_{kind or 'batch'}"
    return endpoint


for _kind in EventType:
    router.add_api_route(
        f"/{_kind}",
        _endpoint(str(_kind)),
        methods=["POST"],
        summary=f"Segment {_kind} call",
        responses=tracking_docs.RESPONSES,
        openapi_extra=tracking_docs.call_docs(_kind),
    )
router.add_api_route(
    "/batch",
    _endpoint(None),
    methods=["POST"],
    summary="Segment batch",
    responses=tracking_docs.RESPONSES,
    openapi_extra=tracking_docs.batch_docs(),
)
# analytics.js posts to /v1/import for historical batches; it is the same operation here.
router.add_api_route("/import", _endpoint(None), methods=["POST"], include_in_schema=False)
