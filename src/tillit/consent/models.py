"""Tables of the consent area. Ledger, preference and log tables are append-only: rows are
added, never updated, so history is the data and the current state is derived from it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow
from tillit.vocabulary import LegalBasis


class ConsentDecision(StrEnum):
    """What a customer decided about one purpose: an entry in their consent ledger."""

    granted = "granted"
    withdrawn = "withdrawn"
    denied = "denied"
    objected = "objected"  # GDPR 21(3): an objection to direct marketing, absolute


class Method(StrEnum):
    preference_centre = "preference_centre"
    form = "form"
    api = "api"
    import_ = "import"
    gpc = "gpc"
    unsubscribe = "unsubscribe"


class Purpose(Base):
    __tablename__ = "consent_purpose"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    legal_basis: Mapped[LegalBasis] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Notice(Base):
    """One version of a purpose's notice in one language. New wording, new version."""

    __tablename__ = "consent_notice"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purpose_id: Mapped[int] = mapped_column(ForeignKey("consent_purpose.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    what_we_do: Mapped[str] = mapped_column(Text)
    what_you_get: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("purpose_id", "version", "language"),)


class Topic(Base):
    __tablename__ = "consent_topic"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)  # language -> name
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ConsentRecord(Base):
    """One entry in a customer's hash chain. Never updated; erasure blanks the evidence."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... within the customer's chain
    purpose_key: Mapped[str] = mapped_column(String(64))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("consent_notice.id"))
    notice_version: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[ConsentDecision] = mapped_column(String(16))
    method: Mapped[Method] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    shown_text_hash: Mapped[str | None] = mapped_column(String(64))
    ip_prefix: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    gpc: Mapped[bool] = mapped_column(Boolean, default=False)  # Sec-GPC: 1 on the request
    # The chain covers this digest of the evidence, so erasure can blank the evidence itself
    # without breaking the chain.
    evidence_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    previous_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("customer_id", "sequence"),
        Index("ix_consent_record_purpose_at", "purpose_key", "recorded_at"),
    )


class PreferenceVersion(Base):
    """The whole preference document as the customer left it; the newest row is current."""

    __tablename__ = "preference_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    changed: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # field names changed
    method: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("customer_id", "version"),)


class PersonalLink(Base):
    """A customer's way into the preference centre. Only a keyed hash of the secret is kept."""

    __tablename__ = "personal_link"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnsubscribeList(Base):
    """One (customer, scope) pair that List-Unsubscribe tokens name; the token is its id + MAC."""

    __tablename__ = "unsubscribe_list"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(80))  # topic:<key> or purpose:<key>

    __table_args__ = (UniqueConstraint("customer_id", "scope"),)


class Suppression(Base):
    """Keyed hashes of erased contact points: never contacted again, never readable again."""

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    identity_type: Mapped[str] = mapped_column(String(32))
    value_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("identity_type", "value_hash"),)
