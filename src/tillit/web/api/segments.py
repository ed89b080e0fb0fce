"""Segments over HTTP: define them (each save a new version), preview a size, read who is in."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from tillit.analytics import segment_store as store
from tillit.analytics.engine import connect
from tillit.analytics.models import Segment
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.errors import Conflict
from tillit.staff.scopes import SEGMENTS_READ, SEGMENTS_WRITE
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, SettingsDep, require_scope

router = APIRouter(prefix="/segments", tags=["segments"])
Reader = Annotated[Actor, Depends(require_scope(SEGMENTS_READ))]
Writer = Annotated[Actor, Depends(require_scope(SEGMENTS_WRITE))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 404, 422)
}


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(
        min_length=1, max_length=64, description="The consent purpose the segment serves"
    )
    definition: dict[str, Any] = Field(
        description="The rule tree: leaves (trait, identity, events, goal, consent, "
        "channel_allowed, topic_chosen, nps_group, theme, language, country, segment) under "
        "all / any / not; see docs/analytics.md"
    )


class SegmentCreate(SegmentIn):
    key: str = Field(min_length=1, max_length=64)


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=1, max_length=64)
    definition: dict[str, Any]


class PreviewOut(BaseModel):
    size: int = Field(description="Members who consented to the purpose")
    left_out: int = Field(description="Matched the rules, but have not consented")


class SegmentOut(BaseModel):
    key: str
    name: str
    purpose: str
    version: int
    definition: dict[str, Any]
    size: int
    left_out: int
    refreshed_at: datetime | None = Field(description="When the membership was last found current")


class MemberOut(BaseModel):
    customer_id: int
    entered_at: datetime


class MembersPage(BaseModel):
    members: list[MemberOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; none at the end")


class Membership(BaseModel):
    customer_id: int
    member: bool


def _out(session: SessionDep, segment: Segment) -> SegmentOut:
    return SegmentOut(
        key=segment.key,
        name=segment.name,
        purpose=segment.purpose_key,
        version=segment.current_version,
        definition=store.definition_of(session, segment),
        size=segment.size,
        left_out=segment.left_out,
        refreshed_at=segment.refreshed_at,
    )


@router.get("", response_model=list[SegmentOut], responses=PROBLEMS)
def list_segments(session: SessionDep, _actor: Reader) -> list[SegmentOut]:
    return [_out(session, s) for s in store.all_segments(session)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SegmentOut, responses=PROBLEMS)
def create_segment(data: SegmentCreate, session: SessionDep, actor: Writer) -> SegmentOut:
    """Its membership follows at the next refresh (the jobs process, within minutes)."""
    if session.scalar(select(Segment.id).where(Segment.key == data.key)) is not None:
        raise Conflict(f"a segment {data.key!r} exists already: PUT saves a new version")
    segment = store.save_segment(
        session=session,
        key=data.key,
        name=data.name,
        purpose=data.purpose,
        definition=data.definition,
        actor=actor,
    )
    session.commit()
    return _out(session, segment)


@router.post("/preview", response_model=PreviewOut, responses=PROBLEMS)
def preview_segment(
    data: PreviewIn, session: SessionDep, settings: SettingsDep, _actor: Reader
) -> PreviewOut:
    """The size a definition would have now, before it is saved."""
    model = Model(connect(settings), settings.data_dir)
    sized = store.preview(
        session=session, model=model, purpose=data.purpose, definition=data.definition
    )
    return PreviewOut(size=sized.size, left_out=sized.left_out)


@router.get("/{key}", response_model=SegmentOut, responses=PROBLEMS)
def read_segment(key: str, session: SessionDep, _actor: Reader) -> SegmentOut:
    return _out(session, store.get_segment(session, key))


@router.put("/{key}", response_model=SegmentOut, responses=PROBLEMS)
def update_segment(key: str, data: SegmentIn, session: SessionDep, actor: Writer) -> SegmentOut:
    """Saves the definition as a new version (the earlier ones are kept)."""
    store.get_segment(session, key)
    segment = store.save_segment(
        session=session,
        key=key,
        name=data.name,
        purpose=data.purpose,
        definition=data.definition,
        actor=actor,
    )
    session.commit()
    return _out(session, segment)


@router.get("/{key}/members", response_model=MembersPage, responses=PROBLEMS)
def list_members(
    key: str,
    session: SessionDep,
    _actor: Reader,
    after: Annotated[int, Query(ge=0, description="The last customer id of the page before")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MembersPage:
    segment = store.get_segment(session, key)
    rows = store.members_page(session, segment, after=after, limit=limit)
    return MembersPage(
        members=[MemberOut(customer_id=m.customer_id, entered_at=m.entered_at) for m in rows],
        next_after=rows[-1].customer_id if len(rows) == limit else None,
    )


@router.get("/{key}/members/{customer_id}", response_model=Membership, responses=PROBLEMS)
def is_member(key: str, customer_id: EntityId, session: SessionDep, _actor: Reader) -> Membership:
    store.get_segment(session, key)
    return Membership(customer_id=customer_id, member=store.is_member(session, key, customer_id))


@router.get("/{key}/export", responses={**PROBLEMS, 200: {"content": {"text/csv": {}}}})
def export_members(key: str, session: SessionDep, _actor: Reader) -> StreamingResponse:
    """Every member as CSV (customer_id, entered_at)."""
    segment = store.get_segment(session, key)
    pages: list[list[tuple[int, str]]] = []
    after = 0
    while True:
        rows = store.members_page(session, segment, after=after, limit=5_000)
        if not rows:
            break
        pages.append([(m.customer_id, m.entered_at.isoformat()) for m in rows])
        after = rows[-1].customer_id

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["customer_id", "entered_at"])
        for page in pages:
            writer.writerows(page)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="segment-{segment.key}.csv"'},
    )
