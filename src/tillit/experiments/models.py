"""Experiments as staff define them, and the exposures that say who was served which variant."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class ExperimentStatus(StrEnum):
    draft = "draft"  # analysts may define it; nobody is assigned yet
    running = "running"  # an admin started it; variants are served and exposures logged
    stopped = "stopped"  # an admin (or, later, a guardrail) stopped it; its data stays


class Experiment(Base):
    """One experiment. Its unit is the resolved customer; ``variants`` is
    ``[{"key": "control", "weight": 1.0, "description": "..."}, ...]`` in the order staff gave,
    and the weights are fixed once it runs (changing them would move people between variants).
    ``segment`` and the goal keys name analytics definitions, checked when that layer exists.
    """

    __tablename__ = "experiment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    hypothesis: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16), default="customer")
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)
    control: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    primary_goal: Mapped[str] = mapped_column(String(64))
    secondary_goals: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    guardrails: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # Whether a guardrail showing significant harm stops the experiment by itself.
    auto_stop: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whether a decisive primary result (its always-valid interval clear of 0) stops it too.
    stop_on_decision: Mapped[bool] = mapped_column(Boolean, default=False)
    # Part of the assignment hash: a new salt reshuffles everyone (a re-run of an old key).
    salt: Mapped[str] = mapped_column(String(32))
    status: Mapped[ExperimentStatus] = mapped_column(String(16), default=ExperimentStatus.draft)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_by: Mapped[str | None] = mapped_column(String(320))
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_by: Mapped[str | None] = mapped_column(String(320))
    stop_reason: Mapped[str | None] = mapped_column(String(500))

    @property
    def variant_keys(self) -> list[str]:
        return [str(v["key"]) for v in self.variants]

    @property
    def weights(self) -> dict[str, float]:
        return {str(v["key"]): float(v["weight"]) for v in self.variants}


class Exposure(Base):
    """A customer profile was served a variant (first time only: later servings of the same
    variant add nothing). After a merge, one person may hold several profiles' exposures; the
    analysis reads them per person (``tillit.experiments.assignment.analysis_units``)."""

    __tablename__ = "experiment_exposure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # api | track | campaign
    exposed_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Idempotent logging: the same profile served the same variant again is one row.
        UniqueConstraint("experiment_id", "customer_id", "variant"),
        Index("ix_experiment_exposure_customer", "customer_id"),
    )


class OutsideAudience(Base):
    """A person asked for while outside the experiment's audience segment: served nothing
    (no variant, no exposure) and counted once per experiment."""

    __tablename__ = "experiment_outside_audience"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
