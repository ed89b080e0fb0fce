"""The contact policy over HTTP: decide one message, decide an audience, record a send."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.contact import explain
from tillit.contact.log import record_send
from tillit.contact.service import Decided, decide_audience, decide_for, make_intent
from tillit.customers.service import get_customer
from tillit.customers.validation import check_text
from tillit.errors import InvalidInput, TillitError
from tillit.staff.scopes import CONTACT_DECIDE, CONTACT_SEND
from tillit.storage.base import EntityId
from tillit.vocabulary import MessageKind, OutboundChannel
from tillit.web.deps import SessionDep, SettingsDep, require_scope
from tillit.web.problems import http_status, problem_body

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/contact", tags=["contact policy"])
Decider = Annotated[Actor, Depends(require_scope(CONTACT_DECIDE))]
Sender = Annotated[Actor, Depends(require_scope(CONTACT_SEND))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 404, 422)
}


class MessageIntent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(description="A purpose key, e.g. marketing or research")
    kind: str = Field(description="transactional, service, marketing or dialogue")
    channel: str = Field(description="email, sms, push, social, phone, post or in_app")
    topic: str | None = None
    at: datetime | None = Field(None, description="When it would be sent; default now")
    priority: int = 0


class DecideRequest(MessageIntent):
    customer_id: EntityId
    log: bool = Field(
        False,
        description="True when you mean to send: the decision is stored "
        "and shown to the customer; pass its id when recording the send",
    )


class CheckPublic(BaseModel):
    name: str
    status: str
    reason: str | None
    until: datetime | None


class DecisionPublic(BaseModel):
    customer_id: int
    outcome: str = Field(description="allowed, deferred or denied")
    reason: str | None = Field(description="The decisive reason code; null when allowed")
    defer_until: datetime | None
    explanation: list[str] = Field(description="Every check, in order, in plain English")
    checks: list[CheckPublic]
    decision_id: int | None = Field(description="Set when the decision was logged")


class AudienceRequest(MessageIntent):
    customer_ids: list[EntityId] = Field(min_length=1, max_length=1_000_000)


class SendCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: EntityId
    channel: OutboundChannel  # what counts toward caps: the policy's own channels and kinds
    kind: MessageKind
    topic: str | None = Field(None, max_length=64)
    decision_id: EntityId | None = None
    sent_at: AwareDatetime | None = None


@router.post("/decide", response_model=DecisionPublic, responses=PROBLEMS)
async def decide_one(
    data: DecideRequest, request: Request, settings: SettingsDep, _actor: Decider
) -> DecisionPublic:
    if data.log:  # a logged decision writes and may wait for the write lock: off the loop
        decided = await run_in_threadpool(_decide, data, request, settings)
    else:
        # A plain question is a few index lookups on a read-only session (well under a
        # millisecond) and never waits for a lock: cheaper on the event loop than the hop
        # to the thread pool and back, which was most of this endpoint's latency.
        decided = _decide(data, request, settings)
    decision = decided.decision
    return DecisionPublic(
        customer_id=data.customer_id,
        outcome=decision.outcome.value,
        reason=decision.reason,
        defer_until=decision.defer_until,
        explanation=explain(decision),
        checks=[
            CheckPublic(name=c.name, status=c.status.value, reason=c.reason, until=c.until)
            for c in decision.checks
        ],
        decision_id=decided.logged_id,
    )


def _decide(data: DecideRequest, request: Request, settings: Settings) -> Decided:
    # Only a logged decision writes; a plain question reads, beside other readers.
    factory = request.app.state.sessions if data.log else request.app.state.read_sessions
    with factory() as session:
        decided = decide_for(  # an unknown customer raises NotFound: a 404 problem
            session=session,
            customer_id=data.customer_id,
            purpose=data.purpose,
            kind=data.kind,
            channel=data.channel,
            topic=data.topic,
            at=data.at,
            priority=data.priority,
            settings=settings,
            log=data.log,
        )
        if data.log:
            session.commit()
    return decided


@router.post(
    "/decide-audience",
    responses=PROBLEMS,
    response_class=StreamingResponse,
    summary="Decide for many customers; answers one JSON object per line as they are decided",
)
def decide_many(
    data: AudienceRequest, request: Request, settings: SettingsDep, _actor: Decider
) -> StreamingResponse:
    intent = make_intent(
        purpose=data.purpose,
        kind=data.kind,
        channel=data.channel,
        topic=data.topic,
        at=data.at,
        priority=data.priority,
    )

    def lines() -> Iterator[bytes]:
        # Its own session: the request's is closed before a streamed body is sent.
        with request.app.state.read_sessions() as session:
            for row in decide_audience(
                session=session, customer_ids=data.customer_ids, intent=intent, settings=settings
            ):
                yield orjson.dumps(row) + b"\n"

    stream = lines()
    # The first chunk is decided before the 200 goes out, so a failure there (a bad stored
    # row, a database error) is an ordinary problem answer instead of an empty stream.
    first = next(stream, None)
    body = _ended_by_error_line(request, first, stream, total=len(set(data.customer_ids)))
    return StreamingResponse(body, media_type="application/x-ndjson")


def _ended_by_error_line(
    request: Request, first: bytes | None, rest: Iterator[bytes], *, total: int
) -> Iterator[bytes]:
    """Once the 200 is sent a failure cannot change the status, and a stream that merely
    stops would read as a complete (shorter) answer: it ends with an ``{"error": problem}``
    line instead, so a reader knows the lines before it are not the whole audience."""
    if first is None:
        return
    yield first
    sent = 1
    try:
        for line in rest:
            yield line
            sent += 1
    except Exception as error:
        logger.exception("decide-audience stopped after %d of %d lines", sent, total)
        known = error if isinstance(error, TillitError) else TillitError("")
        detail = f"deciding stopped after {sent} of {total} customers; the answer is incomplete"
        problem = problem_body(
            request,
            status=http_status(known),
            title=known.title,
            detail=f"{detail}: {known.detail}" if known.detail else detail,
            slug=known.slug,
        )
        yield orjson.dumps({"error": problem}) + b"\n"


@router.post("/sends", status_code=status.HTTP_201_CREATED, responses=PROBLEMS)
def create_send(data: SendCreate, session: SessionDep, _actor: Sender) -> dict[str, Any]:
    if nul := check_text(data.topic, "topic"):
        raise InvalidInput(nul)
    get_customer(session=session, customer_id=data.customer_id)
    send = record_send(
        session=session,
        customer_id=data.customer_id,
        channel=data.channel,
        kind=data.kind,
        topic=data.topic,
        decision_id=data.decision_id,
        sent_at=data.sent_at,
    )
    session.commit()
    return {"id": send.id, "customer_id": send.customer_id, "sent_at": send.sent_at.isoformat()}
