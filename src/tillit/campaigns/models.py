"""Campaigns, each planning round with its counts, and one row per audience member planned.

A campaign message row says what happened to one customer in one round: scheduled (handed to
the outbox) or held, with the reason, the relevance score and its explanation, so the customer
can read "why did I get this" (or why not) in their preference centre.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class CampaignStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    running = "running"
    done = "done"


class Group(StrEnum):
    """Which arm of the campaign's own experiment a customer is in."""

    relevant = "relevant"  # the relevance gate decides
    blast = "blast"  # sent as a blast would be: the gate is off (the policy still holds)
    holdout = "holdout"  # planned, never sent


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    status: Mapped[CampaignStatus] = mapped_column(String(16), default=CampaignStatus.draft)
    experiment_key: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CampaignRound(Base):
    """One planning round: who was in the audience, and how many were held for each reason."""

    __tablename__ = "campaign_round"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    occurrence: Mapped[str] = mapped_column(String(32))  # e.g. the planned day, 2026-12-07
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    audience: Mapped[int] = mapped_column(Integer, default=0)
    allowed: Mapped[int] = mapped_column(Integer, default=0)
    relevant: Mapped[int] = mapped_column(Integer, default=0)
    scheduled: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[dict[str, int]] = mapped_column(JsonDoc, default=dict)  # reason -> count

    __table_args__ = (UniqueConstraint("campaign_id", "occurrence"),)


class CampaignMessage(Base):
    __tablename__ = "campaign_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("campaign_round.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    group: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # scheduled | held
    reason: Mapped[str | None] = mapped_column(String(64))  # why held
    channel: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    explanation: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_decision.id", ondelete="SET NULL")
    )
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("round_id", "customer_id"),
        Index("ix_campaign_message_customer", "customer_id", "planned_at"),
        Index("ix_campaign_message_campaign", "campaign_id", "status"),
        # The analytics snapshot of sends finds each send's campaign through its decision.
        Index("ix_campaign_message_decision", "decision_id"),
    )
