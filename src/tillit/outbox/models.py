"""The outbox's one table: every message Tillit means to send, from the moment it is planned
until the provider took it (or gave up on it)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, UtcDateTime, utcnow


class OutboxState(StrEnum):
    """Where a message is. ``queued`` and ``sending`` are on their way; the rest are final."""

    queued = "queued"  # waiting for its time (next_attempt_at), first or again after a failure
    sending = "sending"  # claimed by a sender (claim_token, claimed_at); a lease, not a lock
    sent = "sent"  # the provider accepted it (SMTP 250 after DATA, gateway 2xx)
    failed = "failed"  # gave up after the last attempt; last_error says why
    bounced = "bounced"  # refused for good by the provider (SMTP 5xx, gateway 4xx)
    held = "held"  # the contact policy said no at the moment of sending; last_error names why


FINAL_STATES = frozenset(
    {OutboxState.sent, OutboxState.failed, OutboxState.bounced, OutboxState.held}
)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    purpose_key: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("contact_decision.id"))
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.queued)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        # What a sender claims: the due queued messages, oldest first.
        Index("ix_outbox_message_due", "state", "next_attempt_at"),
        Index("ix_outbox_message_customer", "customer_id"),
    )
