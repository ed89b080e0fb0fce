"""Feedback insight over HTTP: send comments in, read themes out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from tillit.audit.service import Actor
from tillit.feedback.overview import theme_overview
from tillit.feedback.service import FeedbackIn, ingest_feedback
from tillit.staff.scopes import INSIGHT_READ, INSIGHT_WRITE
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, require_scope

router = APIRouter(prefix="/insight", tags=["feedback insight"])
Reader = Annotated[Actor, Depends(require_scope(INSIGHT_READ))]
Writer = Annotated[Actor, Depends(require_scope(INSIGHT_WRITE))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 422)
}


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    source: str = Field("api", max_length=100, description="e.g. reviews, support, chat")
    channel: str | None = Field(None, max_length=16)
    customer_id: EntityId | None = None
    locale: str | None = Field(
        None, max_length=16, description="The writer's locale: a prior for language"
    )
    country: str | None = Field(
        None,
        pattern="^[A-Za-z]{2}$",
        description="ISO 3166-1 country of the channel (shop, web domain): a weaker prior",
    )
    nps: int | None = Field(None, ge=0, le=10)
    csat: int | None = Field(None, ge=1, le=5)
    created_at: datetime | None = None


class FeedbackBatch(BaseModel):
    items: list[FeedbackCreate] = Field(min_length=1, max_length=1000)


class FeedbackPublic(BaseModel):
    id: int
    language: str = Field(description='A language code, or "unknown" for a short, unclear text')
    sentiment: str
    sentiment_score: float
    theme_id: int | None


class ThemePublic(BaseModel):
    id: int
    label: str
    volume: int
    negative_share: float
    keywords: dict[str, list[str]]
    examples: dict[str, list[str]]
    unspoken_need: bool
    weekly: list[dict[str, Any]] = Field(description="Week start, volume, negative share")


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=list[FeedbackPublic],
    responses=PROBLEMS,
)
def submit_feedback(
    data: FeedbackBatch, session: SessionDep, _actor: Writer
) -> list[FeedbackPublic]:
    """Analysed and stored in one transaction; each comment joins an existing theme."""
    rows = ingest_feedback(
        session=session, items=[FeedbackIn(**item.model_dump()) for item in data.items]
    )
    session.commit()
    return [
        FeedbackPublic(
            id=row.id,
            language=row.language,
            sentiment=row.sentiment_label,
            sentiment_score=row.sentiment_score,
            theme_id=row.theme_id,
        )
        for row in rows
    ]


@router.get("/themes", response_model=list[ThemePublic], responses=PROBLEMS)
def list_themes(session: SessionDep, _actor: Reader) -> list[ThemePublic]:
    return [
        ThemePublic(
            id=t.id,
            label=t.label,
            volume=t.volume,
            negative_share=round(t.negative_share, 4),
            keywords=t.keywords,
            examples=t.examples,
            unspoken_need=t.unspoken,
            weekly=[
                {
                    "week": week.date().isoformat(),
                    "volume": volume,
                    "negative_share": round(share, 4),
                }
                for week, volume, share in t.trend
            ],
        )
        for t in theme_overview(session=session)
    ]
