"""Customer profiles and the identities (contact points and keys) that point to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class CustomerStatus(StrEnum):
    active = "active"
    suppressed = "suppressed"  # never contacted again, e.g. after a hard bounce or a complaint
    erased = "erased"  # personal data removed (GDPR 17); the row remains as a tombstone


class IdentityType(StrEnum):
    email = "email"
    phone = "phone"
    user_id = "user_id"
    anonymous_id = "anonymous_id"
    device_id = "device_id"
    loyalty_card = "loyalty_card"
    social_handle = "social_handle"


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    traits: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[CustomerStatus] = mapped_column(
        String(16), default=CustomerStatus.active, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Identity.id"
    )

    __table_args__ = (Index("ix_customer_name", "name"),)

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]


class Identity(Base):
    __tablename__ = "identity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[IdentityType] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")

    # One value of one type belongs to one person. The search box finds values by their start
    # (a prefix is a range of the value index; PostgreSQL's pattern operators order by bytes).
    __table_args__ = (
        UniqueConstraint("type", "value"),
        Index("ix_identity_value", "value", postgresql_ops={"value": "varchar_pattern_ops"}),
    )
