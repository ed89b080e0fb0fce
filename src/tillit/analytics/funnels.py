"""Funnels: how many people went through ordered steps, where they dropped, and how fast.

A step is an event by name with optional property filters, and optionally its own window (at
most so long after the previous step). The funnel as a whole may have a window too (the last
step at most so long after the first). Modes:

* ``ordered``: each step after the previous one; other events may come between.
* ``strict``: each step is the person's very next event (of any kind) after the previous one.
* ``any``: the steps in any order, all within the funnel's window of the earliest of them.

An exclusion is an event (with property filters) that must not come between two steps: a path
through the funnel with one between steps ``after`` and ``before`` stops at step ``after``.

Every path is considered, not only the earliest match, so a per-step window is answered
exactly: at each step the reachable states (start, time of this step) are kept, deduplicated,
and joined with the next step's events. People are ``person_id`` (identity merges followed);
the breakdown is by the channel of the event that entered the funnel (a person who entered on
two channels counts once in each, and once in the total).

Time between steps: per person the shortest time from the previous step along any path that
reached the step, in whole seconds; the median over people is exact and interpolated on both
engines (DuckDB ``percentile_cont``, Spark ``percentile``). In ``any`` mode steps have no
previous one, so no time is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from tillit.analytics.properties import property_is
from tillit.analytics.tables import Model

MODES = ("ordered", "strict", "any")
ALL = "(all)"  # the breakdown row of every channel together


class FunnelError(ValueError):
    """A funnel that cannot be answered as asked; the message says why in words."""


@dataclass(frozen=True)
class Step:
    event: str
    filters: dict[str, str] = field(default_factory=dict)  # property -> value, all must match
    within: timedelta | None = None  # at most this long after the previous step


@dataclass(frozen=True)
class Exclusion:
    event: str
    filters: dict[str, str] = field(default_factory=dict)
    after: int = 1  # between step ``after`` and step ``before`` (1-based); None: the last step
    before: int | None = None


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Step, ...]
    mode: str = "ordered"
    within: timedelta | None = None  # the last step at most this long after the first
    exclusions: tuple[Exclusion, ...] = ()

    def check(self) -> None:
        if len(self.steps) < 2:
            raise FunnelError("a funnel needs at least two steps")
        if self.mode not in MODES:
            raise FunnelError(f"unknown mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.mode == "any" and any(s.within for s in self.steps):
            raise FunnelError("a per-step window needs ordered steps (mode ordered or strict)")
        if self.mode == "any" and self.exclusions:
            raise FunnelError("exclusions need ordered steps (mode ordered or strict)")
        if self.mode == "any":
            # In any order a step is "did it at all", so a step named twice would only repeat
            # itself (and its expression, twice in one join, is ambiguous to Ibis).
            seen: list[tuple[str, object]] = []
            for number, step in enumerate(self.steps, 1):
                if (step.event, step.filters) in seen:
                    raise FunnelError(
                        f"step {number} repeats an earlier step ({step.event!r}): in any order "
                        "a step counts once; use ordered steps to count it twice"
                    )
                seen.append((step.event, step.filters))
        for window in [self.within, *(s.within for s in self.steps)]:
            if window is not None and window <= timedelta(0):
                raise FunnelError("a window must be longer than zero")
        for ex in self.exclusions:
            before = len(self.steps) if ex.before is None else ex.before
            if not 1 <= ex.after < before <= len(self.steps):
                raise FunnelError(
                    f"exclusion {ex.event!r}: between steps {ex.after} and {before} is not a "
                    f"range of this funnel's {len(self.steps)} steps"
                )


@dataclass(frozen=True)
class StepResult:
    channel: str  # ALL, or the channel the people entered on
    step: int  # 1-based
    event: str
    people: int
    from_previous: float  # share of the previous step's people (1.0 at the first step)
    from_first: float
    dropped: int  # the previous step's people who did not reach this one
    median_seconds_from_previous: float | None


def _matching(events: ir.Table, event: str, filters: dict[str, str]) -> ir.Table:
    hits = events.filter(events.name == event)
    for name, wanted in filters.items():
        hits = hits.filter(property_is(hits, name, wanted))
    return hits


def _sequenced(model: Model, mode: str) -> ir.Table:
    """Events with ``seq``: in strict mode each person's events numbered in time order (ties by
    id), as a step must be the next number after the previous one; elsewhere 0, sparing the
    window over every event."""
    events = model.events()
    if mode != "strict":
        return events.mutate(seq=ibis.literal(0, type="int64"))
    return events.mutate(
        seq=ibis.row_number().over(group_by="person_id", order_by=["timestamp", "id"])
    )


def _seconds(value: ir.TimestampValue) -> ir.IntegerValue:
    # Whole seconds on both engines: DuckDB's epoch keeps the fraction, Spark's drops it.
    return value.epoch_seconds().floor()


def _ordered_stages(funnel: Funnel, events: ir.Table) -> list[ir.Table]:
    """Per step, the reachable states: person_id, channel (of the entry), start, at, id, seq,
    gap (seconds from the previous step, the shortest way to this state)."""
    first = _matching(events, funnel.steps[0].event, funnel.steps[0].filters)
    state = first.select(
        person_id=first.person_id,
        channel=first.channel.fill_null(""),
        start=first.timestamp,
        at=first.timestamp,
        id=first.id,
        seq=first.seq,
        gap=ibis.null("float64"),
    )
    stages = [state]
    for number, step in enumerate(funnel.steps[1:], start=2):
        hits = _matching(events, step.event, step.filters)
        nxt = hits.select(
            n_person=hits.person_id, n_at=hits.timestamp, n_id=hits.id, n_seq=hits.seq
        )
        if funnel.mode == "strict":
            order = nxt.n_seq == state.seq + 1
        else:
            order = (nxt.n_at > state.at) | ((nxt.n_at == state.at) & (nxt.n_id > state.id))
        conditions = [state.person_id == nxt.n_person, order]
        if step.within is not None:
            conditions.append(nxt.n_at <= state.at + ibis.interval(seconds=_whole(step.within)))
        if funnel.within is not None:
            conditions.append(
                nxt.n_at <= state.start + ibis.interval(seconds=_whole(funnel.within))
            )
        paths = state.join(nxt, conditions)
        for ex in funnel.exclusions:
            before = len(funnel.steps) if ex.before is None else ex.before
            if not ex.after < number <= before:
                continue
            bad = _matching(events, ex.event, ex.filters)
            bad = bad.select(x_person=bad.person_id, x_at=bad.timestamp)
            paths = paths.anti_join(
                bad,
                [
                    paths.person_id == bad.x_person,
                    bad.x_at > paths.at,
                    bad.x_at < paths.n_at,
                ],
            )
        state = (
            paths.group_by(["person_id", "channel", "start", "n_at", "n_id", "n_seq"])
            .aggregate(prev=paths.at.max())
            .select(
                "person_id",
                "channel",
                "start",
                at=ibis._.n_at,
                id=ibis._.n_id,
                seq=ibis._.n_seq,
                gap=(_seconds(ibis._.n_at) - _seconds(ibis._.prev)).cast("float64"),
            )
        )
        stages.append(state)
    return stages


def _any_order_stages(funnel: Funnel, events: ir.Table) -> list[ir.Table]:
    """Per step k, one row per (person, channel, anchor) where steps 1..k all happen within the
    window from the anchor, the earliest of them (any occurrence of a step is a candidate)."""
    hits = [_matching(events, s.event, s.filters) for s in funnel.steps]
    anchors = hits[0].select(
        "person_id", channel=hits[0].channel.fill_null(""), at=hits[0].timestamp
    )
    for more in hits[1:]:
        anchors = anchors.union(
            more.select("person_id", channel=more.channel.fill_null(""), at=more.timestamp)
        )
    anchors = anchors.distinct()
    stages = []
    reached = anchors
    for hit in hits:
        found = hit.select(h_person=hit.person_id, h_at=hit.timestamp)
        conditions = [reached.person_id == found.h_person, found.h_at >= reached.at]
        if funnel.within is not None:
            conditions.append(
                found.h_at <= reached.at + ibis.interval(seconds=_whole(funnel.within))
            )
        reached = reached.semi_join(found, conditions)
        stages.append(reached.mutate(gap=ibis.null("float64")))
    return stages


def _whole(window: timedelta) -> int:
    return int(window.total_seconds())


def _stages(model: Model, funnel: Funnel, until: datetime | None = None) -> list[ir.Table]:
    funnel.check()
    events = _sequenced(model, funnel.mode)
    if until is not None:
        events = events.filter(events.timestamp <= until)
    if funnel.mode == "any":
        return _any_order_stages(funnel, events)
    return _ordered_stages(funnel, events)


def dropped_people(
    model: Model, funnel: Funnel, step: int, until: datetime | None = None
) -> ir.Table:
    """``person_id`` of the people who reached step ``step - 1`` but not step ``step``
    (1-based; 2 or more): the funnel's drop-outs at that step."""
    if not 2 <= step <= len(funnel.steps):
        raise FunnelError(f"people drop out at steps 2 to {len(funnel.steps)}, not {step}")
    stages = _stages(model, funnel, until)
    before = stages[step - 2].select("person_id").distinct()
    after = stages[step - 1].select(r_person="person_id").distinct()
    return before.anti_join(after, before.person_id == after.r_person)


def funnel_expression(model: Model, funnel: Funnel) -> ir.Table:
    """One table: per step and channel (and ALL), people and the median time from the previous
    step."""
    stages = _stages(model, funnel)
    parts = []
    for number, stage in enumerate(stages, start=1):
        per_person = stage.group_by("person_id").aggregate(gap=stage.gap.min())
        parts.append(
            per_person.aggregate(people=per_person.count(), median=per_person.gap.median()).mutate(
                channel=ibis.literal(ALL), step=ibis.literal(number)
            )
        )
        per_channel = stage.group_by(["channel", "person_id"]).aggregate(gap=stage.gap.min())
        parts.append(
            per_channel.group_by("channel")
            .aggregate(people=per_channel.count(), median=per_channel.gap.median())
            .mutate(step=ibis.literal(number))
        )
    columns = ["channel", "step", "people", "median"]
    table = parts[0].select(*columns)
    for part in parts[1:]:
        table = table.union(part.select(*columns))
    return table


def run_funnel(model: Model, funnel: Funnel) -> list[StepResult]:
    """Rows for the total (channel ALL) first, then per channel in name order, steps in order."""
    rows = funnel_expression(model, funnel).to_pyarrow().to_pylist()
    found: dict[tuple[str, int], dict[str, Any]] = {(r["channel"], r["step"]): r for r in rows}
    channels = sorted({r["channel"] for r in rows if r["channel"] != ALL})
    results = []
    for channel in [ALL, *channels]:
        first = previous = None
        for number, step in enumerate(funnel.steps, start=1):
            row = found.get((channel, number))
            people = int(row["people"]) if row else 0
            median = row["median"] if row else None
            if first is None:
                first = previous = people
            assert previous is not None
            results.append(
                StepResult(
                    channel=channel or "(none)",
                    step=number,
                    event=step.event,
                    people=people,
                    from_previous=people / previous if previous else 0.0,
                    from_first=people / first if first else 0.0,
                    dropped=previous - people,
                    median_seconds_from_previous=None if median is None else float(median),
                )
            )
            previous = people
    return results


WINDOW_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_window(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d`` or ``2w`` as a timedelta."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in WINDOW_UNITS or not number.isdigit() or int(number) == 0:
        raise FunnelError(
            f"{text!r} is not a window: write a whole number and a unit, m (minutes), "
            "h (hours), d (days) or w (weeks), e.g. 7d"
        )
    return timedelta(seconds=int(number) * WINDOW_UNITS[unit])
