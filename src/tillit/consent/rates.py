"""Consent rates over time, and the inline SVG chart that shows them (no JavaScript).

Every purpose's weekly rates read every consent record (seconds on 100,000 customers), so the
jobs process measures them every few minutes and the staff page reads the latest snapshot."""

from __future__ import annotations

import html
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent.models import ConsentDecision, ConsentRecord
from tillit.consent.notices import list_purposes
from tillit.storage import snapshots
from tillit.storage.base import utcnow

MEASURE_EVERY = timedelta(minutes=5)
KIND, KEY = "consent_rates", ""
Series = list[tuple[date, float | None]]


@dataclass(frozen=True)
class WeeklyRates:
    measured_at: datetime
    by_purpose: dict[str, Series]  # purpose key -> (week's end, share granted)


def measure_weekly_rates(*, session: Session, now: datetime) -> WeeklyRates:
    """Every purpose's weekly grant rates, kept as a snapshot for the staff page."""
    by_purpose = {
        purpose.key: weekly_grant_rates(session=session, purpose_key=purpose.key, today=now.date())
        for purpose in list_purposes(session=session, active_only=False)
    }
    plain = {
        key: [[day.isoformat(), rate] for day, rate in series] for key, series in by_purpose.items()
    }
    snapshots.keep(session=session, kind=KIND, key=KEY, measured_at=now, data={"by_purpose": plain})
    return WeeklyRates(now, by_purpose)


def latest_weekly_rates(*, session: Session) -> WeeklyRates | None:
    found = snapshots.latest(session=session, kind=KIND, key=KEY)
    if found is None:
        return None
    by_purpose = {
        key: [(date.fromisoformat(day), rate) for day, rate in series]
        for key, series in found.data["by_purpose"].items()
    }
    return WeeklyRates(found.measured_at, by_purpose)


def measure_weekly_rates_if_due(*, session: Session, now: datetime) -> WeeklyRates | None:
    latest = latest_weekly_rates(session=session)
    if latest is not None and now - latest.measured_at < MEASURE_EVERY:
        return None
    return measure_weekly_rates(session=session, now=now)


def weekly_grant_rates(
    *, session: Session, purpose_key: str, weeks: int = 12, today: date | None = None
) -> Series:
    """Share of customers whose latest decision at each week's end is a grant.

    One pass over the purpose's records: each record counts for the weeks from the first that
    ends after it until a later record (by sequence) of the same customer takes over, added as
    differences and summed up at the end (per-week scans of every customer took seconds on
    100,000 customers)."""
    end = today or utcnow().date()
    starts = [end - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    rows = session.execute(
        select(ConsentRecord.customer_id, ConsentRecord.decision, ConsentRecord.recorded_at)
        .where(ConsentRecord.purpose_key == purpose_key)
        .order_by(ConsentRecord.customer_id, ConsentRecord.sequence)
    )
    known = [0] * (weeks + 1)  # differences: +1 where a record starts counting, -1 where it stops
    granted = [0] * (weeks + 1)
    for _, records in groupby(rows, key=itemgetter(0)):
        chain = [(bisect_left(starts, at.date()), decision) for _, decision, at in records]
        until = weeks  # the first week a later record counts for
        for first, decision in reversed(chain):
            if first < until:
                known[first] += 1
                known[until] -= 1
                if decision == ConsentDecision.granted:
                    granted[first] += 1
                    granted[until] -= 1
                until = first
    series: Series = []
    running_known = running_granted = 0
    for index, day in enumerate(starts):
        running_known += known[index]
        running_granted += granted[index]
        series.append((day, running_granted / running_known if running_known else None))
    return series


def svg_line_chart(series: list[tuple[date, float | None]], *, title: str) -> str:
    """A small accessible line chart; the caller also shows the numbers as a table."""
    width, height, pad = 480, 160, 28
    points = [(i, rate) for i, (_, rate) in enumerate(series) if rate is not None]
    step = (width - 2 * pad) / max(len(series) - 1, 1)
    path = " ".join(
        f"{pad + i * step:.1f},{height - pad - rate * (height - 2 * pad):.1f}" for i, rate in points
    )
    escaped = html.escape(title, quote=True)  # it lands in an attribute: quotes matter too
    return (
        f'<svg role="img" aria-label="{escaped}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#555"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#555"/>'
        f'<text x="2" y="{pad + 4}" font-size="10">100%</text>'
        f'<text x="8" y="{height - pad + 4}" font-size="10">0%</text>'
        f'<polyline fill="none" stroke="#0b6e5f" stroke-width="2" points="{path}"/></svg>'
    )
