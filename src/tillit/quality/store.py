"""Reports kept with the time they were measured: the jobs process measures, pages read.

Measuring reads every value of every field (seconds on a few thousand customers); a page that
did it per request took 5-6 s, so the jobs process measures every ``MEASURE_EVERY`` and the
page shows the latest report with its time.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tillit.quality.models import StoredReport
from tillit.quality.service import FieldQuality, QualityReport, SourceQuality, measure

MEASURE_EVERY = timedelta(minutes=10)
KEEP = 10  # reports kept per setting of current_days; older ones are deleted


def save_report(*, session: Session, report: QualityReport) -> StoredReport:
    stored = StoredReport(
        measured_at=report.measured_at,
        current_days=report.current_days,
        report=_plain(report),
    )
    session.add(stored)
    session.flush()
    old = select(StoredReport.id).where(StoredReport.current_days == report.current_days)
    keep = old.order_by(StoredReport.measured_at.desc()).limit(KEEP)
    session.execute(
        delete(StoredReport).where(
            StoredReport.id.in_(old.scalar_subquery()), StoredReport.id.not_in(keep)
        )
    )
    return stored


def latest_report(*, session: Session, current_days: int) -> QualityReport | None:
    stored = session.scalars(
        select(StoredReport)
        .where(StoredReport.current_days == current_days)
        .order_by(StoredReport.measured_at.desc())
        .limit(1)
    ).first()
    return None if stored is None else _report(stored.report)


def measure_if_due(
    *, session: Session, default_country: str, current_days: int, now: datetime
) -> QualityReport | None:
    """Measures and keeps a new report when the latest is older than MEASURE_EVERY."""
    latest = latest_report(session=session, current_days=current_days)
    if latest is not None and now - latest.measured_at < MEASURE_EVERY:
        return None
    report = measure(
        session=session, default_country=default_country, current_days=current_days, now=now
    )
    save_report(session=session, report=report)
    return report


def _plain(report: QualityReport) -> dict[str, Any]:
    plain = dataclasses.asdict(report)
    plain["measured_at"] = report.measured_at.isoformat()
    return plain


def _report(plain: dict[str, Any]) -> QualityReport:
    return QualityReport(
        measured_at=datetime.fromisoformat(plain["measured_at"]),
        current_days=plain["current_days"],
        relevant_days=plain["relevant_days"],
        sources=[
            SourceQuality(
                source=source["source"],
                fields=[FieldQuality(**field) for field in source["fields"]],
            )
            for source in plain["sources"]
        ],
    )
