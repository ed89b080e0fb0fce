"""Reports kept with the time they were measured: the jobs process measures, pages read.

Measuring reads every value of every field (seconds on a few thousand customers); a page that
did it per request took 5-6 s, so the jobs process measures every ``MEASURE_EVERY`` and the
page shows the latest report with its time.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tillit.quality.service import FieldQuality, QualityReport, SourceQuality, measure
from tillit.storage import snapshots

MEASURE_EVERY = timedelta(minutes=10)
KIND = "quality"


def save_report(*, session: Session, report: QualityReport) -> snapshots.Snapshot:
    return snapshots.keep(
        session=session,
        kind=KIND,
        key=str(report.current_days),
        measured_at=report.measured_at,
        data=_plain(report),
    )


def latest_report(*, session: Session, current_days: int) -> QualityReport | None:
    found = snapshots.latest(session=session, kind=KIND, key=str(current_days))
    return None if found is None else _report(found.data)


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
