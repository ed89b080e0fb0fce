"""Goals as transactions: conversions after a meeting, credited to the channel of the meeting.

A goal is reached by (``kind``)

* ``event``: an event with property filters, and a property that carries its value such as
  ``revenue``;
* ``consent``: a person's first grant of a consent purpose (a lead into the permission base);
* ``answer``: an answered dialogue question (one, or any);
* ``signup``: a profile created (a new customer).

A *meeting* is any event of the same person on a channel (for an event goal, any other event);
a conversion counts for the meetings within ``window_days`` before it. Credit goes to the first
meeting (first touch), the last (last touch), or is shared equally by all of them (linear).
People are ``person_id``: one person across channels and merged profiles.

Breakdowns (``by_breakdown``) give people met, converted, rate (Wilson interval), conversions
and value per language, country, segment (a person in several counts in each) or week of the
meeting (of the people met that week, those who converted within the window after it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tillit.analytics.properties import event_property, property_is
from tillit.analytics.tables import Model

MODELS = ("first_touch", "last_touch", "linear")
KINDS = ("event", "consent", "answer", "signup")
BREAKDOWNS = ("language", "country", "segment", "week")


class GoalError(ValueError):
    """A goal report that cannot be made as asked; the message says why in words."""


@dataclass(frozen=True)
class EventGoal:
    """A goal definition of any kind (the name is from when events were the only kind)."""

    key: str
    event: str  # kind event: the event name, e.g. "Order Completed"
    window_days: int = 7
    value_property: str | None = None  # e.g. "revenue"
    filters: dict[str, str] = field(default_factory=dict)  # property -> value, all must match
    kind: str = "event"
    purpose: str | None = None  # kind consent: the purpose granted
    question: str | None = None  # kind answer: the question answered (None: any)

    def meeting_excludes(self) -> str | None:
        """The event name that is the goal itself, so not a meeting (event goals only)."""
        return self.event if self.kind == "event" else None


@dataclass(frozen=True)
class BreakdownResult:
    group: str  # the language, country, segment key or week (a Monday, ISO date)
    people_met: int
    people_converted: int
    rate: float
    rate_low: float
    rate_high: float
    conversions: int
    value: float


@dataclass(frozen=True)
class ChannelResult:
    channel: str
    people_met: int
    people_converted: int
    rate: float
    rate_low: float
    rate_high: float
    first_touch: float
    last_touch: float
    linear: float
    value_first_touch: float
    value_last_touch: float
    value_linear: float
    mean_hours_to_convert: float | None  # from the last meeting on this channel


def wilson(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default)."""
    if trials == 0:
        return (0.0, 0.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - margin), min(1.0, centre + margin))


def _typed(table: ir.Table, conv_id: Any, converted_at: Any, value: Any) -> ir.Table:
    return table.select(
        conv_id=conv_id.cast("int64"),
        person_id=table.person_id.cast("int64"),
        converted_at=converted_at.cast("timestamp('UTC')"),
        value=value.cast("float64"),
    )


def conversions(model: Model, goal: EventGoal) -> ir.Table:
    """One row per conversion: conv_id, person_id, converted_at, value."""
    zero = ibis.literal(0.0)
    if goal.kind == "consent":
        history = model.consents()
        grants = history.filter(
            (history.purpose_key == (goal.purpose or "")) & (history.decision == "granted")
        )
        # The first grant per person: the moment they entered the permission base.
        first = grants.group_by("person_id").aggregate(
            conv_id=grants.consent_id.min(), converted_at=grants.recorded_at.min()
        )
        return _typed(first, first.conv_id, first.converted_at, zero)
    if goal.kind == "answer":
        answers = model.answers()
        if goal.question:
            answers = answers.filter(answers.question_key == goal.question)
        return _typed(answers, answers.response_id, answers.answered_at, zero)
    if goal.kind == "signup":
        people = model.customers()
        return _typed(people, people.person_id, people.created_at, zero)
    if goal.kind != "event":
        raise GoalError(f"unknown goal kind {goal.kind!r}: choose one of {', '.join(KINDS)}")
    events = model.events()
    hits = events.filter(events.name == goal.event)
    for name, wanted in goal.filters.items():
        hits = hits.filter(property_is(hits, name, wanted))
    value = (
        event_property(hits, goal.value_property).cast("float64")
        if goal.value_property
        else ibis.literal(0.0)
    )
    return _typed(hits, hits.id, hits.timestamp, value)


def meetings(model: Model, goal: EventGoal) -> ir.Table:
    """Every event on a channel that is not the goal itself: person_id, channel, met_at."""
    events = model.events()
    wanted = events.channel.notnull()
    excluded = goal.meeting_excludes()
    if excluded is not None:
        wanted &= events.name != excluded
    return events.filter(wanted).select("person_id", "channel", met_at=events.timestamp)


def touches(model: Model, goal: EventGoal) -> ir.Table:
    """Each conversion with each meeting in its window: conv_id, channel, met_at, ..."""
    met = meetings(model, goal)
    meetings_ = met.rename(met_person="person_id")
    converted = conversions(model, goal)
    window = ibis.interval(days=goal.window_days)
    return converted.join(
        meetings_,
        [
            converted.person_id == meetings_.met_person,
            meetings_.met_at <= converted.converted_at,
            meetings_.met_at >= converted.converted_at - window,
        ],
    ).drop("met_person")


def by_channel(model: Model, goal: EventGoal) -> list[ChannelResult]:
    """Conversions, rate (Wilson interval), credited conversions and value, and time to convert,
    per channel of the meeting. Ties (two meetings at the same instant) go to the channel
    first in alphabetical order, the same on every engine."""
    pairs = touches(model, goal)
    all_met = meetings(model, goal)
    met = all_met.group_by("channel").aggregate(people_met=all_met.person_id.nunique())
    # Each pair with its conversion's first and last meeting and how many, as window functions
    # over the pairs: one join of conversions and meetings that every credit model reads. (An
    # aggregate joined back made Ibis join conversions and meetings twice, and the credit
    # models each joining the pairs again read them five times over.)
    per_conversion = ibis.window(group_by="conv_id")
    shared = pairs.mutate(
        first_at=pairs.met_at.min().over(per_conversion),
        last_at=pairs.met_at.max().over(per_conversion),
        n=pairs.count().over(per_conversion),
    )
    converted = shared.group_by("channel").aggregate(
        people_converted=shared.person_id.nunique(),
        # Whole seconds on both engines: DuckDB's epoch keeps the fraction, Spark's drops it.
        mean_seconds=(
            shared.converted_at.epoch_seconds().floor() - shared.met_at.epoch_seconds().floor()
        ).mean(),
        linear=(1.0 / shared.n).sum(),
        value_linear=(shared.value / shared.n).sum(),
    )
    touched = shared.group_by(["conv_id", "value"]).aggregate(
        first_touch=shared.channel.min(where=shared.met_at == shared.first_at),
        last_touch=shared.channel.min(where=shared.met_at == shared.last_at),
    )
    credit = {}
    for name in ("first_touch", "last_touch"):
        credit[name] = touched.group_by(channel=touched[name]).aggregate(
            **{name: touched.count().cast("float64"), f"value_{name}": touched.value.sum()}
        )
    table = met.left_join(converted, "channel").drop("channel_right")
    for name in ("first_touch", "last_touch"):
        table = table.left_join(credit[name], "channel").drop("channel_right")
    rows = table.order_by("channel").to_pyarrow().to_pylist()
    return [_result(row) for row in rows]


def _result(row: dict[str, Any]) -> ChannelResult:
    met, hit = int(row["people_met"]), int(row["people_converted"] or 0)
    low, high = wilson(hit, met)
    seconds = row["mean_seconds"]
    return ChannelResult(
        channel=row["channel"],
        people_met=met,
        people_converted=hit,
        rate=hit / met if met else 0.0,
        rate_low=low,
        rate_high=high,
        mean_hours_to_convert=None if seconds is None else round(seconds / 3600, 6),
        **{name: round(float(row[name] or 0.0), 9) for name in MODELS},
        **{f"value_{n}": round(float(row[f"value_{n}"] or 0.0), 6) for n in MODELS},
    )


def by_breakdown(
    model: Model,
    goal: EventGoal,
    by: str,
    segments: Mapping[str, Iterable[int]] | None = None,
) -> list[BreakdownResult]:
    """People met and converted, rate, conversions and value per group of ``by``: language,
    country, segment (``segments``: key -> member person ids; a person counts in each of theirs)
    or week (of the meeting; the week a Monday, ISO date). Groups by name."""
    if by not in BREAKDOWNS:
        raise GoalError(f"unknown breakdown {by!r}: choose one of {', '.join(BREAKDOWNS)}")
    met = meetings(model, goal)
    pairs = touches(model, goal)
    if by == "week":
        met_rows = met.select("person_id", group=met.met_at.truncate("W").date())
        pair_rows = pairs.select(
            "conv_id", "person_id", "value", group=pairs.met_at.truncate("W").date()
        )
    else:
        if by == "segment":
            rows = [
                {"g_person": int(person), "group": key}
                for key, people in sorted((segments or {}).items())
                for person in people
            ]
            groups = ibis.memtable(
                pa.Table.from_pylist(
                    rows, schema=pa.schema([("g_person", pa.int64()), ("group", pa.string())])
                )
            )
        else:
            people = model.customers()
            groups = people.select(g_person=people.person_id, group=people[by].fill_null(""))
        joined = met.join(groups, met.person_id == groups.g_person)
        met_rows = joined.select("person_id", "group")
        paired = pairs.join(groups, pairs.person_id == groups.g_person)
        pair_rows = paired.select("conv_id", "person_id", "value", "group")
    reached = met_rows.group_by("group").aggregate(people_met=met_rows.person_id.nunique())
    distinct = pair_rows.distinct()
    converted = distinct.group_by("group").aggregate(
        people_converted=distinct.person_id.nunique(),
        conversions=distinct.count(),
        value=distinct.value.sum(),
    )
    table = reached.left_join(converted, "group").drop("group_right")
    rows = table.to_pyarrow().to_pylist()
    results = []
    for row in rows:
        people_met, hit = int(row["people_met"]), int(row["people_converted"] or 0)
        low, high = wilson(hit, people_met)
        group = row["group"]
        results.append(
            BreakdownResult(
                group=group.isoformat() if isinstance(group, date) else str(group or "(none)"),
                people_met=people_met,
                people_converted=hit,
                rate=hit / people_met if people_met else 0.0,
                rate_low=low,
                rate_high=high,
                conversions=int(row["conversions"] or 0),
                value=round(float(row["value"] or 0.0), 6),
            )
        )
    return sorted(results, key=lambda r: r.group)
