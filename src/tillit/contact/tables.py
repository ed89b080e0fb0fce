"""The contact policy's own tables: the decisions it made on real sends, the sends that count
toward caps, and the contact points that could not be reached. The first two are append-only,
except ``sent`` on a decision that went out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class DecisionRecord(Base):
    """A contact-policy answer for a real (or intended) send, kept to explain it later."""

    __tablename__ = "contact_decision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    purpose_key: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # marketing | transactional | service | dialogue
    channel: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | deferred | denied
    reasons: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    defer_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_contact_decision_customer_at", "customer_id", "decided_at"),)


class SendRecord(Base):
    """A message that went out; counts toward the customer's and the company's caps."""

    __tablename__ = "contact_send"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("contact_decision.id"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_contact_send_customer_at", "customer_id", "channel", "sent_at"),)


class DeliveryFailure(Base):
    """A message to a contact point (an e-mail address, a phone, a device) that the provider
    refused for good (``permanent``: a bounce) or that failed on every attempt. The contact
    policy reads these in its "reachable" check (:mod:`tillit.contact.state`); the point is
    named by its keyed hash, as on the suppression list, so the raw address is not copied."""

    __tablename__ = "contact_delivery_failure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    point_hash: Mapped[str] = mapped_column(String(64))
    permanent: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(500))
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_contact_delivery_failure_customer", "customer_id", "channel"),)
