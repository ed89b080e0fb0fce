"""Reading stored feedback by language, channel, sentiment, theme and period: the filters of
the themes explorer and the list of the comments behind a theme. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.analytics.models import Segment, SegmentMember
from tillit.customers.models import Customer
from tillit.feedback.models import Feedback, FeedbackTheme

SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class FeedbackFilter:
    """Every field None: all stored comments. ``since`` and ``until`` are days, both included
    (UTC)."""

    language: str | None = None
    channel: str | None = None
    sentiment: str | None = None
    theme_id: int | None = None
    since: date | None = None
    until: date | None = None
    segment_id: int | None = None  # comments of the segment's current members

    @property
    def narrows(self) -> bool:
        return any(
            v is not None
            for v in (
                self.language,
                self.channel,
                self.sentiment,
                self.theme_id,
                self.since,
                self.until,
                self.segment_id,
            )
        )

    def applied(self, query: Any) -> Any:
        if self.language is not None:
            query = query.where(Feedback.language == self.language)
        if self.channel is not None:
            query = query.where(Feedback.channel == self.channel)
        if self.sentiment is not None:
            query = query.where(Feedback.sentiment_label == self.sentiment)
        if self.theme_id is not None:
            query = query.where(Feedback.theme_id == self.theme_id)
        if self.since is not None:
            query = query.where(Feedback.created_at >= _start_of(self.since))
        if self.until is not None:
            query = query.where(Feedback.created_at < _start_of(self.until + timedelta(days=1)))
        if self.segment_id is not None:
            query = query.where(
                Feedback.customer_id.in_(
                    select(SegmentMember.customer_id).where(
                        SegmentMember.segment_id == self.segment_id
                    )
                )
            )
        return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Choices:
    """The values the filters can take: those stored, most used first."""

    languages: list[str]
    channels: list[str]
    first: date | None
    last: date | None


def segments(*, session: Session) -> list[tuple[int, str]]:
    """The segments comments can be narrowed to, by name."""
    return [(s.id, s.name) for s in session.scalars(select(Segment).order_by(Segment.name))]


def choices(*, session: Session) -> Choices:
    def used(column: Any) -> list[str]:
        return [
            str(value)
            for value, _count in session.execute(
                select(column, func.count())
                .where(column.is_not(None))
                .group_by(column)
                .order_by(func.count().desc(), column)
            )
        ]

    first, last = session.execute(
        select(func.min(Feedback.created_at), func.max(Feedback.created_at))
    ).one()
    return Choices(
        used(Feedback.language),
        used(Feedback.channel),
        first.date() if first else None,
        last.date() if last else None,
    )


@dataclass(frozen=True)
class CommentRow:
    id: int
    text: str | None  # None once erased
    language: str
    channel: str | None
    sentiment: str
    sentiment_score: float
    theme_id: int | None
    theme_label: str | None
    customer_id: int | None
    customer_name: str | None
    created_at: datetime


def list_comments(
    *, session: Session, where: FeedbackFilter, limit: int = 50, offset: int = 0
) -> list[CommentRow]:
    """Newest first, with the theme's name and the customer's (where the comment has one)."""
    query = where.applied(
        select(Feedback, FeedbackTheme.label, Customer.name)
        .outerjoin(FeedbackTheme, FeedbackTheme.id == Feedback.theme_id)
        .outerjoin(Customer, Customer.id == Feedback.customer_id)
    )
    rows = session.execute(
        query.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit).offset(offset)
    )
    return [
        CommentRow(
            id=f.id,
            text=f.text,
            language=f.language,
            channel=f.channel,
            sentiment=f.sentiment_label,
            sentiment_score=f.sentiment_score,
            theme_id=f.theme_id,
            theme_label=label,
            customer_id=f.customer_id,
            customer_name=name,
            created_at=f.created_at,
        )
        for f, label, name in rows
    ]


def count_comments(*, session: Session, where: FeedbackFilter) -> int:
    return session.scalar(where.applied(select(func.count(Feedback.id)))) or 0
