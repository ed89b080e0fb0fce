"""Merges of two profiles into one, kept so that each can be explained and undone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class Merge(Base):
    __tablename__ = "identity_merge"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    into_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(200))  # e.g. "identify: shared email"
    message_id: Mapped[str | None] = mapped_column(String(200))
    by: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # What moved, so an unmerge puts back exactly this and nothing the person added since.
    moved_identities: Mapped[list[list[str]]] = mapped_column(JsonDoc, default=list)
    from_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(320))

    __table_args__ = (
        Index("ix_identity_merge_from", "from_customer_id"),
        Index("ix_identity_merge_into", "into_customer_id"),
    )


class MatchSuggestion(Base):
    """A probable same-person pair found without a shared key, waiting for staff review."""

    __tablename__ = "identity_match_suggestion"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    left_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    right_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    probability: Mapped[float]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|accepted|rejected|auto
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("identity_merge.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    # Per compared field: {"level": Splink's words, "verdict": agree|close|differ|missing,
    # "weight": match weight}; None on suggestions made before evidence was kept.
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)

    __table_args__ = (Index("ix_identity_match_status", "status", "probability"),)
