"""Metrics by channel, segment (a trait), language and month, with honest uncertainty.

NPS: each answer is coded +1 (9-10), 0 (7-8) or -1 (0-6); NPS is 100 x the mean. Its 95 %
interval is a Wald interval on that coding: SE = sqrt((p+ + p- - (p+ - p-)^2) / n), NPS +-
1.96 x 100 x SE (clipped to [-100, 100]); with fewer than 30 answers it is wide, as it should be.
CSAT: share of 4-5 answers, Wald interval. CES: mean score (1-7, 7 = very easy). Response rate:
answered / asks that reached the customer (answered, declined, expired or still open).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from tillit.customers.models import Customer
from tillit.dialogues.models import COUNTED, Ask, AskStatus, Question, Response

Z95 = 1.959964
DIMENSIONS = ("channel", "language", "month", "segment")


@dataclass(frozen=True)
class Row:
    group: str
    asks: int
    answers: int
    nps: float | None
    nps_low: float | None
    nps_high: float | None
    nps_n: int
    csat: float | None
    csat_n: int
    ces: float | None
    ces_n: int

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.asks if self.asks else None


def nps_interval(scores: Iterable[int]) -> tuple[float, float, float] | None:
    values = list(scores)
    n = len(values)
    if not n:
        return None
    promoters = sum(s >= 9 for s in values) / n
    detractors = sum(s <= 6 for s in values) / n
    nps = promoters - detractors
    se = math.sqrt(max(promoters + detractors - nps**2, 0.0) / n)
    return (100 * nps, max(-100.0, 100 * (nps - Z95 * se)), min(100.0, 100 * (nps + Z95 * se)))


def _group(
    dimension: str,
    channel: str,
    language: str,
    traits: dict[str, Any] | None,
    trait: str,
    at: datetime,
) -> str:
    if dimension == "channel":
        return channel
    if dimension == "language":
        return language
    if dimension == "month":
        return at.strftime("%Y-%m")
    value = (traits or {}).get(trait)
    return str(value) if value not in (None, "") else "(none)"


def compute(
    *,
    session: Session,
    dimension: str = "channel",
    trait: str = "segment",
    since: datetime | None = None,
) -> list[Row]:
    """Asks, answers and scores per group. Only the columns a group needs are read (loading
    every ask, answer and customer as objects took most of the metrics page's time)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}")
    by_segment = dimension == "segment"
    query = (
        select(
            Ask.channel,
            Ask.language,
            Ask.status,
            Ask.created_at,
            Response.answered_at,
            Response.score,
            Question.type,
            Customer.traits if by_segment else literal(None),
        )
        .join(Question, Question.id == Ask.question_id)
        .outerjoin(Response, Response.ask_id == Ask.id)
        .where(Ask.status.in_(list(COUNTED)))
    )
    if by_segment:
        query = query.outerjoin(Customer, Customer.id == Ask.customer_id)
    if since is not None:
        query = query.where(Ask.created_at >= since)
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"asks": 0, "answers": 0, "nps": [], "csat": [], "ces": []}
    )
    for channel, language, status, created_at, answered_at, score, qtype, traits in session.execute(
        query
    ):
        key = _group(dimension, channel, language, traits, trait, answered_at or created_at)
        bucket = groups[key]
        bucket["asks"] += 1
        if status == AskStatus.answered and answered_at is not None:
            bucket["answers"] += 1
            if qtype in ("nps", "csat", "ces") and score is not None:
                bucket[qtype].append(score)
    return [_row(key, groups[key]) for key in sorted(groups)]


def _row(key: str, bucket: dict[str, Any]) -> Row:
    interval = nps_interval(bucket["nps"])
    csat, ces = bucket["csat"], bucket["ces"]
    return Row(
        group=key,
        asks=bucket["asks"],
        answers=bucket["answers"],
        nps=interval[0] if interval else None,
        nps_low=interval[1] if interval else None,
        nps_high=interval[2] if interval else None,
        nps_n=len(bucket["nps"]),
        csat=100 * sum(s >= 4 for s in csat) / len(csat) if csat else None,
        csat_n=len(csat),
        ces=sum(ces) / len(ces) if ces else None,
        ces_n=len(ces),
    )


def to_csv(rows: list[Row], dimension: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            dimension,
            "asks",
            "answers",
            "response_rate",
            "nps",
            "nps_low_95",
            "nps_high_95",
            "nps_n",
            "csat_pct",
            "csat_n",
            "ces_mean",
            "ces_n",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.group,
                r.asks,
                r.answers,
                _fmt(r.response_rate),
                _fmt(r.nps),
                _fmt(r.nps_low),
                _fmt(r.nps_high),
                r.nps_n,
                _fmt(r.csat),
                r.csat_n,
                _fmt(r.ces),
                r.ces_n,
            ]
        )
    return out.getvalue()


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def svg_nps_chart(rows: list[Row], *, title: str, width: int = 560, height: int = 220) -> str:
    """NPS per group as bars with 95 % whiskers, on a -100..100 axis; plain inline SVG."""
    shown = [r for r in rows if r.nps is not None]
    left, top, bottom = 40, 20, 40
    plot_h = height - top - bottom

    def y(value: float) -> float:
        return top + plot_h * (100 - value) / 200

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_esc(title)}" width="100%"><title>{_esc(title)}</title>',
        f'<line x1="{left}" x2="{width}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888"/>',
    ]
    for tick in (-100, -50, 0, 50, 100):
        parts.append(
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" '
            f'text-anchor="end">{tick}</text>'
        )
    step = (width - left) / max(1, len(shown))
    for index, row in enumerate(shown):
        assert row.nps is not None and row.nps_low is not None and row.nps_high is not None
        x = left + index * step + step * 0.2
        bar_w = step * 0.6
        top_y, base = min(y(row.nps), y(0)), max(y(row.nps), y(0))
        colour = "#2f7d5b" if row.nps >= 0 else "#b3412e"
        mid = x + bar_w / 2
        parts += [
            f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{bar_w:.1f}" '
            f'height="{max(base - top_y, 1):.1f}" fill="{colour}"><title>{_esc(row.group)}: '
            f"NPS {row.nps:.0f} ({row.nps_low:.0f} to {row.nps_high:.0f}), n={row.nps_n}"
            f"</title></rect>",
            f'<line x1="{mid:.1f}" x2="{mid:.1f}" y1="{y(row.nps_high):.1f}" '
            f'y2="{y(row.nps_low):.1f}" stroke="#222"/>',
            f'<text x="{mid:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{_esc(row.group[:12])}</text>',
        ]
    if not shown:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            f'font-size="12">No NPS answers yet</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def explore(
    *,
    session: Session,
    question_key: str | None = None,
    channel: str | None = None,
    language: str | None = None,
    max_score: int | None = None,
    limit: int = 200,
) -> list[tuple[Response, Question]]:
    """The response explorer's filters."""
    query = select(Response, Question).join(Question, Question.id == Response.question_id)
    if question_key:
        query = query.where(Question.key == question_key)
    if channel:
        query = query.where(Response.channel == channel)
    if language:
        query = query.where(Response.language == language)
    if max_score is not None:
        query = query.where(Response.score <= max_score)
    rows = session.execute(query.order_by(Response.answered_at.desc()).limit(limit))
    return [(response, question) for response, question in rows]


def explore_response(
    *, session: Session, response_id: int | None
) -> tuple[Response, Question] | None:
    if response_id is None:
        return None
    response = session.get(Response, response_id)
    return None if response is None else (response, session.get_one(Question, response.question_id))
