"""Feedback comments, the themes they fall into, theme alerts and the fitted theme model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class FeedbackTheme(Base):
    """A theme as staff see it; ``key`` is the pipeline's theme id, stable across renames."""

    __tablename__ = "insight_theme"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    # The plain-words name per staff language ({"da": "Levering og forsinkelser"}), as
    # discovered; ``label`` is what staff see (the staff language's, or their own rename).
    labels: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    keywords: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # Unit float32 vector (384 values, little-endian) in the model state's ThemeSpace.
    centroid: Mapped[bytes] = mapped_column(LargeBinary)
    staff_renamed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Feedback(Base):
    """One comment with what the pipeline made of it. ``text`` is None once erased."""

    __tablename__ = "insight_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    language_confidence: Mapped[float] = mapped_column(Float)
    sentiment_label: Mapped[str] = mapped_column(String(16))
    sentiment_score: Mapped[float] = mapped_column(Float)
    # [[phrase, valence], ...]: the words that drove the lexicon score.
    sentiment_explanation: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)
    nps: Mapped[int | None] = mapped_column()
    csat: Mapped[int | None] = mapped_column()
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("insight_theme.id", ondelete="SET NULL")
    )
    theme_similarity: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_insight_feedback_theme_created", "theme_id", "created_at"),
        Index("ix_insight_feedback_customer", "customer_id"),
    )


class ThemeAlert(Base):
    """A theme growing or turning negative in one period (BH-adjusted, see insight.trends)."""

    __tablename__ = "insight_theme_alert"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("insight_theme.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    adjusted_p_value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ThemeModelState(Base):
    """What assigning new comments needs: the ThemeSpace means and the n-gram router.

    Append-only; the newest row is the current model.
    """

    __tablename__ = "insight_model_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # {"da": [384 floats], ...} and the overall mean, as float32 bytes in one npz.
    space: Mapped[bytes] = mapped_column(LargeBinary)
    router: Mapped[bytes | None] = mapped_column(LargeBinary)
    trained_on: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
