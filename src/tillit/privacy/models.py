"""The tables of data requests (GDPR 15, 17, 20, 21) and of the proofs that erasures happened."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class DataRequestKind(StrEnum):
    access = "access"  # GDPR 15
    erasure = "erasure"  # GDPR 17
    portability = "portability"  # GDPR 20
    objection = "objection"  # GDPR 21


class DataRequest(Base):
    __tablename__ = "data_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[DataRequestKind] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | rejected
    channel: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class ErasureProof(Base):
    """Non-personal proof that an erasure happened: when, what was touched, counts."""

    __tablename__ = "erasure_proof"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId)  # the tombstone's id, no foreign key
    request_id: Mapped[int | None] = mapped_column(BigId)
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    counts: Mapped[dict[str, int]] = mapped_column(JsonDoc, default=dict)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
