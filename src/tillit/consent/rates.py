"""Consent rates over time, and the inline SVG chart that shows them (no JavaScript)."""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent.models import ConsentRecord, Decision
from tillit.storage.base import utcnow


def weekly_grant_rates(
    *, session: Session, purpose_key: str, weeks: int = 12
) -> list[tuple[date, float | None]]:
    """Share of customers whose latest decision at each week's end is a grant."""
    end = utcnow().date()
    starts = [end - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    rows = session.execute(
        select(ConsentRecord.customer_id, ConsentRecord.decision, ConsentRecord.recorded_at)
        .where(ConsentRecord.purpose_key == purpose_key)
        .order_by(ConsentRecord.sequence)
    ).all()
    by_customer: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for customer_id, decision, at in rows:
        by_customer[customer_id].append((at.date(), decision))
    series: list[tuple[date, float | None]] = []
    for day in starts:
        latest = [
            next((d for at, d in reversed(events) if at <= day), None)
            for events in by_customer.values()
        ]
        known = [d for d in latest if d is not None]
        series.append(
            (day, sum(d == Decision.granted for d in known) / len(known) if known else None)
        )
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
