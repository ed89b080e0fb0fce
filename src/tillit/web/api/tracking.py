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
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.gpc import honour_gpc
from tillit.errors import FieldError, InvalidInput, Unauthenticated
from tillit.events import hooks, ingest
from tillit.events.models import Event, EventType
from tillit.events.sources import SourceRef, source_for_key
from tillit.events.spec import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    NUL_ESCAPE,
    InvalidMessage,
    parse_time,
)
from tillit.identity.resolve import links_for
from tillit.identity.rules import IdentityRules, load_rules
from tillit.storage.base import utcnow
from tillit.storage.bulk import bind_processor
from tillit.storage.group import GroupCommit
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
) -> ingest.IngestResult:
    """Returns once the batch is committed, with the batches of other requests that waited
    meanwhile (see tillit.storage.group).

    Everything that needs no write lock happens here, in the event loop, while the group
    commit's writer thread writes other requests' batches (and other worker processes theirs):
    the write key, validation, the timestamps as the database binds them, identity links.
    Only the write itself goes to the writer, so a request costs no hop through a thread pool.
    """
    state = request.app.state
    source = await _source(request, key)
    messages, rejected = ingest.parse_all(
        items,
        type_=kind,
        channel=source.channel,
        received_at=received_at,
        sent_at=sent_at,
        bind_timestamp=bind_processor(state.engine.dialect, ingest.EVENTS.c.timestamp),
        may_hold_nul=may_hold_nul,
    )
    if not messages:
        return ingest.IngestResult(rejected=rejected)
    rules = _rules(request)
    defaults = get_defaults(state.settings)
    links = links_for((m for _, m in messages), rules=rules, default_country=defaults.country)
    actor = Actor(type="source", id=str(source.id), label=f"source {source.name}")

    def work(session: Session) -> ingest.IngestResult:
        stored = ingest.store(
            session=session,
            source_id=source.id,
            source_name=source.name,
            messages=messages,
            received_at=received_at,
            rules=rules,
            defaults=defaults,
            actor=actor,
            links=links,
        )
        hooks.after_store(
            session,
            [
                hooks.StoredEvent(customer_id, message.type, message.name, message.timestamp)
                for message, customer_id in stored.stored
            ],
        )
        if request.headers.get("sec-gpc") == "1":
            _honour_gpc(session, request, source.id, [*stored.accepted, *stored.duplicates])
        stored.rejected = rejected
        return stored

    writes: GroupCommit = state.group_commit
    return await asyncio.wrap_future(writes.submit(work))


def _honour_gpc(session: Session, request: Request, source_id: int, message_ids: list[str]) -> None:
    """Global Privacy Control from the person's browser: withdraw partner sharing for whoever
    these events belong to (see docs/consent.md for when an explicit choice wins)."""
    customer_ids = set(
        session.scalars(
            select(Event.customer_id).where(
                Event.source_id == source_id,
                Event.message_id.in_(message_ids),
                Event.customer_id.is_not(None),
            )
        )
    )
    evidence = Evidence(
        ip=client_ip(request), user_agent=request.headers.get("user-agent"), gpc=True
    )
    for customer_id in sorted(c for c in customer_ids if c is not None):
        honour_gpc(
            session=session,
            customer_id=customer_id,
            evidence=evidence,
            actor=Actor(type="customer", id=str(customer_id), label="GPC signal"),
        )


def _answer(request: Request, result: ingest.IngestResult, *, single: bool) -> Response:
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
