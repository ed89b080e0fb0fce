"""Cohorts and retention: people by the week or month they were first seen, and the share of
them active again in each later period.

A person is first seen at their earliest event (``person_id``: identity merges followed). Period
N of a cohort is the N-th week or month after the one they were first seen in (period 0 is that
one); a person returns in period N with any event there, or with the chosen event.

The share of period N counts only the people who could have reached it: those whose first-seen
time plus N periods is not after the data's end (the last event in the lake, or ``until``). A
month later is the same day of the month and time of day (a person first seen on the 31st
reaches a 30-day month's period only on the 1st after it). Without this, recent cohorts' later
periods would be diluted by people who have not lived them yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from tillit.analytics.tables import Model

PERIODS = ("week", "month")
WEEK_SECONDS = 7 * 24 * 3600


class CohortError(ValueError):
    """A cohort report that cannot be made as asked; the message says why in words."""


@dataclass(frozen=True)
class CohortRow:
    cohort: date  # the Monday of the week, or the first of the month, first seen in
    period: int  # 0 = the cohort's own period
    size: int  # everyone first seen in the cohort
    eligible: int  # those who could have reached this period by the data's end
    people: int  # of them, active in this period
    share: float  # people / eligible


def _seconds(value: ir.TimestampValue) -> ir.IntegerValue:
    return value.epoch_seconds().floor()  # whole seconds on both engines


def _month_number(value: ir.TimestampValue) -> ir.IntegerValue:
    return value.year() * 12 + value.month()


def _second_of_month(value: ir.TimestampValue) -> ir.IntegerValue:
    return (value.day() - 1) * 86400 + value.hour() * 3600 + value.minute() * 60 + value.second()


def retention(
    model: Model,
    period: str = "week",
    returning_on: str | None = None,
    until: datetime | None = None,
) -> list[CohortRow]:
    """The triangle as rows, by cohort then period."""
    if period not in PERIODS:
        raise CohortError(f"unknown period {period!r}: choose one of {', '.join(PERIODS)}")
    events = model.events()
    end = until or events.timestamp.max().to_pyarrow().as_py()
    if end is None:
        return []  # no events yet
    unit = "W" if period == "week" else "M"
    people = events.group_by("person_id").aggregate(first_seen=events.timestamp.min())
    people = people.filter(people.first_seen <= end)
    end_at = ibis.literal(end, type="timestamp('UTC')")
    if period == "week":
        reachable = ((_seconds(end_at) - _seconds(people.first_seen)) / WEEK_SECONDS).floor()
    else:
        short = (_second_of_month(end_at) < _second_of_month(people.first_seen)).cast("int64")
        reachable = _month_number(end_at) - _month_number(people.first_seen) - short
    people = people.mutate(
        cohort=people.first_seen.truncate(unit).date(), reachable=reachable.cast("int64")
    )

    active = events if returning_on is None else events.filter(events.name == returning_on)
    active = active.filter(active.timestamp <= end)
    joined = active.join(people, "person_id")
    if period == "week":
        index = (
            _seconds(joined.timestamp.truncate("W")) - _seconds(joined.first_seen.truncate("W"))
        ) / WEEK_SECONDS
    else:
        index = _month_number(joined.timestamp) - _month_number(joined.first_seen)
    joined = joined.mutate(period=index.round().cast("int64"))
    returned = (
        joined.filter(joined.period <= joined.reachable)
        .group_by(["cohort", "period"])
        .aggregate(people=joined.person_id.nunique())
    )
    sizes = people.group_by(["cohort", "reachable"]).aggregate(n=people.count())

    by_reach: dict[date, dict[int, int]] = {}
    for row in sizes.to_pyarrow().to_pylist():
        by_reach.setdefault(row["cohort"], {})[row["reachable"]] = row["n"]
    counts = {(r["cohort"], r["period"]): r["people"] for r in returned.to_pyarrow().to_pylist()}
    rows = []
    for cohort in sorted(by_reach):
        reach = by_reach[cohort]
        size = sum(reach.values())
        for n in range(max(reach) + 1):
            eligible = sum(count for most, count in reach.items() if most >= n)
            active_people = int(counts.get((cohort, n), 0))
            rows.append(
                CohortRow(
                    cohort=cohort,
                    period=n,
                    size=size,
                    eligible=eligible,
                    people=active_people,
                    share=active_people / eligible if eligible else 0.0,
                )
            )
    return rows
