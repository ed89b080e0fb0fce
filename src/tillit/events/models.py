"""Sources (who sends events), the events themselves, and bookkeeping for the lake and imports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow
from tillit.vocabulary import SourceChannel


class EventType(StrEnum):
    identify = "identify"
    track = "track"
    page = "page"
    screen = "screen"
    group = "group"
    alias = "alias"


class Source(Base):
    """A system that sends events: a website tracker, a shop, a store's tills, an e-mail sender."""

    __tablename__ = "event_source"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # SHA-256 of the write key: keys are 32 random bytes, so a fast hash is enough (no guessing).
    write_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[SourceChannel] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, for both databases (Alembic and create_all read these)."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


_OWNED = _where("customer_id IS NOT NULL")
_UNOWNED_USER = _where("customer_id IS NULL AND user_id IS NOT NULL")
_UNOWNED_ANONYMOUS = _where("customer_id IS NULL AND user_id IS NULL")


class Event(Base):
    """One Segment-style message as received, with the person it was attributed to."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("event_source.id"))
    message_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[EventType] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))  # track event, page or screen name
    channel: Mapped[SourceChannel] = mapped_column(String(16))
    anonymous_id: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)  # clock-skew corrected
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)

    __table_args__ = (
        # Retries carry the same messageId: the database, not the code, keeps them single.
        UniqueConstraint("source_id", "message_id"),
        # Partial indexes: an event is in the customer index once it is attributed, and in one
        # of the two "unowned" ones until then, so each insert updates two indexes besides the
        # unique one, not five (the ingest path's largest cost after the commit itself).
        # The timeline reads one person's events newest first, for one channel or merging the
        # channels' ranges (tillit.events.timeline); unmerge and erasure find them by person.
        Index(
            "ix_event_customer_channel_time", "customer_id", "channel", "timestamp", "id", **_OWNED
        ),
        # Stitching finds the events nobody owns yet of the user and anonymous ids a batch
        # attaches (tillit.identity.resolve.UNOWNED_EVENTS): only those need these look-ups.
        Index("ix_event_unowned_user", "user_id", **_UNOWNED_USER),
        Index("ix_event_unowned_anonymous", "anonymous_id", **_UNOWNED_ANONYMOUS),
    )


class LakeWatermark(Base):
    """The highest event id already written to the Parquet lake, per export stream."""

    __tablename__ = "lake_watermark"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ImportCheckpoint(Base):
    """How far a bulk import of one file got, so a stopped import resumes instead of restarting."""

    __tablename__ = "event_import_checkpoint"

    file_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    last_line: Mapped[int] = mapped_column(BigId, default=0)
    accepted: Mapped[int] = mapped_column(BigId, default=0)
    rejected: Mapped[int] = mapped_column(BigId, default=0)
    duplicates: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class EventImport(Base):
    """A file of events sent to the API, kept under the data directory until a background job
    has imported it (tillit.events.import_jobs). Its counts live in its ImportCheckpoint."""

    __tablename__ = "event_import"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("event_source.id"))
    file_name: Mapped[str] = mapped_column(String(300))  # as the sender named it
    stored_as: Mapped[str] = mapped_column(String(100))  # under <data dir>/imports
    file_key: Mapped[str] = mapped_column(String(64))  # its ImportCheckpoint
    format: Mapped[str] = mapped_column(String(8))  # jsonl or csv
    size_bytes: Mapped[int] = mapped_column(BigId)
    total_lines: Mapped[int] = mapped_column(BigId)  # of messages (a CSV's header not counted)
    status: Mapped[ImportStatus] = mapped_column(String(16), default=ImportStatus.queued)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Touched after every chunk: a running import whose process died is taken over once
    # this is old (see import_jobs.STALE_AFTER).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_event_import_status", "status", "id"),)
