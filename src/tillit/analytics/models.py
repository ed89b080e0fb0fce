"""Goal definitions, stored so staff define each once and every report reads the same one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class Goal(Base):
    __tablename__ = "analytics_goal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="event")  # event, consent, answer, signup
    event: Mapped[str | None] = mapped_column(String(200))  # e.g. "Order Completed"
    purpose_key: Mapped[str | None] = mapped_column(String(64))  # consent: granted to this
    question_key: Mapped[str | None] = mapped_column(String(64))  # answer: this question (or any)
    filters: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)  # property -> value
    value_property: Mapped[str | None] = mapped_column(String(100))  # e.g. "revenue"
    window_days: Mapped[int] = mapped_column(Integer, default=7)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Segment(Base):
    """A named group of people, defined by rules (the versions) for one declared purpose:
    members without consent to that purpose are left out, and counted."""

    __tablename__ = "analytics_segment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose_key: Mapped[str] = mapped_column(String(64))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(Integer, default=0)
    left_out: Mapped[int] = mapped_column(Integer, default=0)  # matched, but no consent
    # What the membership was computed from (lake watermark, snapshot fingerprints, versions);
    # the refresh recomputes only when it moves.
    inputs: Mapped[str | None] = mapped_column(String(64))
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # last found current
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SegmentVersion(Base):
    __tablename__ = "analytics_segment_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("analytics_segment.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonDoc)  # the rule tree
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="system")

    __table_args__ = (UniqueConstraint("segment_id", "version"),)


class SegmentMember(Base):
    __tablename__ = "analytics_segment_member"

    segment_id: Mapped[int] = mapped_column(ForeignKey("analytics_segment.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SegmentChange(Base):
    """The entered/left history: one row per person entering or leaving."""

    __tablename__ = "analytics_segment_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("analytics_segment.id"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    change: Mapped[str] = mapped_column(String(8))  # entered, left
    version: Mapped[int] = mapped_column(Integer)  # the definition version that decided it
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
