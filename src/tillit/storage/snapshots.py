"""Measured results kept with their time: slow measurements (data quality, the staff home) are
made by the jobs process and read by pages, which then never measure per request.

A snapshot is plain JSON under a ``kind`` (who measured) and a ``key`` (with which setting);
the newest ``KEEP`` of each are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime

KEEP = 10


class Snapshot(Base):
    __tablename__ = "snapshot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)

    __table_args__ = (Index("ix_snapshot_kind_key_at", "kind", "key", "measured_at"),)


def keep(
    *, session: Session, kind: str, key: str, measured_at: datetime, data: dict[str, Any]
) -> Snapshot:
    snapshot = Snapshot(kind=kind, key=key, measured_at=measured_at, data=data)
    session.add(snapshot)
    session.flush()
    same = select(Snapshot.id).where(Snapshot.kind == kind, Snapshot.key == key)
    newest = same.order_by(Snapshot.measured_at.desc(), Snapshot.id.desc()).limit(KEEP)
    session.execute(
        delete(Snapshot).where(
            Snapshot.id.in_(same.scalar_subquery()), Snapshot.id.not_in(newest.scalar_subquery())
        )
    )
    return snapshot


def latest(*, session: Session, kind: str, key: str) -> Snapshot | None:
    return session.scalars(
        select(Snapshot)
        .where(Snapshot.kind == kind, Snapshot.key == key)
        .order_by(Snapshot.measured_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
