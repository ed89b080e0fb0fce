"""Measured data-quality reports, kept so that pages read the latest instead of measuring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime


class StoredReport(Base):
    __tablename__ = "quality_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    current_days: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JsonDoc)  # QualityReport as plain data

    __table_args__ = (Index("ix_quality_report_days_at", "current_days", "measured_at"),)
