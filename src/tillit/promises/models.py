"""The promise catalogue and what its measurement found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class Promise(Base):
    """One promise: its customer-facing text per language, a kind with parameters (the rule
    that measures it), a target share of instances kept, and a scope (everyone or a segment)."""

    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    texts: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)  # language -> text
    target: Mapped[float] = mapped_column(Float, default=0.99)
    segment_key: Mapped[str | None] = mapped_column(String(64))  # None: every customer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)  # raised by every edit
    # What the last measurement was computed from; the round skips it while unchanged.
    inputs: Mapped[str | None] = mapped_column(String(64))
    measured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PromiseWeek(Base):
    """Instances kept and measured per promise and ISO week (Monday, UTC)."""

    __tablename__ = "promise_week"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)
    good: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("promise_id", "week"),)


class PromiseDay(Base):
    """Instances kept and measured per promise and day: the rolling windows of the error
    budget and the burn-rate alert are sums over these."""

    __tablename__ = "promise_day"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    good: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("promise_id", "day"),)


class PromiseBreach(Base):
    """One broken instance, with its evidence (the send, case, request, answer or consent
    record) and where it broke."""

    __tablename__ = "promise_breach"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    evidence_kind: Mapped[str] = mapped_column(String(16))  # send, case, request, answer, consent
    evidence_id: Mapped[int] = mapped_column(BigId)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when the instance began
    broke_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the deadline or the offending send
    channel: Mapped[str | None] = mapped_column(String(32))
    campaign: Mapped[str | None] = mapped_column(String(64))  # the key of the send's campaign
    # The case's assignee as staff wrote it (a staff address or a team's name): Tillit has no
    # teams of its own.
    team: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(64))  # topic, question, request kind, rule
    case_id: Mapped[int | None] = mapped_column(BigId)  # the case the customer opened about it

    __table_args__ = (
        UniqueConstraint("promise_id", "evidence_kind", "evidence_id"),
        Index("ix_promise_breach_customer", "customer_id"),
    )


class ValueIndicator(Base):
    """What staff measure to see whether a consent purpose's promised value was delivered."""

    __tablename__ = "promise_value_indicator"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purpose_key: Mapped[str] = mapped_column(String(64), unique=True)
    indicator: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
