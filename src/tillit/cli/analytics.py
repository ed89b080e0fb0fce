"""`tillit analytics`: goals, funnels, cohorts and segments on DuckDB or Spark."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tillit.analytics.cohorts import retention
from tillit.analytics.engine import connect, stop_spark
from tillit.analytics.funnels import ALL, Funnel, FunnelError, Step, parse_window, run_funnel
from tillit.analytics.goal_store import all_goals, define_goal
from tillit.analytics.goals import BreakdownResult, EventGoal, by_breakdown, by_channel
from tillit.analytics.segment_store import (
    all_segments,
    refresh_segments,
    save_segment,
    segment_people,
)
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.errors import TillitError

from .context import console, context, fail

analytics_app = typer.Typer(
    help="Goals, funnels, cohorts and segments over the event lake, on DuckDB or Spark."
)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class Format(StrEnum):
    table = "table"
    json = "json"


class Mode(StrEnum):
    ordered = "ordered"
    strict = "strict"
    any = "any"


class GoalKind(StrEnum):
    event = "event"
    consent = "consent"
    answer = "answer"
    signup = "signup"


class Breakdown(StrEnum):
    channel = "channel"
    language = "language"
    country = "country"
    segment = "segment"
    week = "week"


def goal_title(goal: EventGoal) -> str:
    """What reaches a goal, in words."""
    if goal.kind == "consent":
        what = f"consent granted to {goal.purpose}"
    elif goal.kind == "answer":
        what = f"question {goal.question} answered" if goal.question else "any question answered"
    elif goal.kind == "signup":
        what = "sign-up"
    else:
        what = goal.event
    return f"{goal.key}: {what}, {goal.window_days} days after a meeting"


class Period(StrEnum):
    week = "week"
    month = "month"


EngineOption = Annotated[
    Engine | None, typer.Option(help="duckdb or spark; default: TILLIT_ANALYTICS_ENGINE.")
]
FormatOption = Annotated[Format, typer.Option(help="table or json.")]


def _model(engine: Engine | None) -> Model:
    ctx = context()
    return Model(connect(ctx.settings, engine.value if engine else None), ctx.settings.data_dir)


def _json(document: object) -> None:
    typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@analytics_app.command("funnel")
def funnel(
    step: Annotated[
        list[str], typer.Option(help="An event name, in order; repeat for each step (two or more).")
    ],
    within: Annotated[
        str | None, typer.Option(help="The whole funnel within, e.g. 30m, 24h, 7d, 2w.")
    ] = None,
    mode: Annotated[Mode, typer.Option(help="ordered, strict or any.")] = Mode.ordered,
    engine: EngineOption = None,
    format: FormatOption = Format.table,
) -> None:
    """People through ordered steps, per step and per channel they entered on: conversion
    from the previous and the first step, drop-off and median time from the previous step."""
    try:
        asked = Funnel(
            steps=tuple(Step(name) for name in step),
            mode=mode.value,
            within=parse_window(within) if within else None,
        )
        asked.check()
    except FunnelError as error:
        raise fail(str(error)) from error
    try:
        results = run_funnel(_model(engine), asked)
    finally:
        stop_spark()
    if format is Format.json:
        _json([asdict(row) for row in results])
        return
    title = f"Funnel ({mode.value})" + (f" within {within}" if within else "")
    table = Table(title=title)
    for column in ("Channel", "Step", "Event"):
        table.add_column(column)
    for column in ("People", "Of previous", "Of first", "Dropped", "Median time"):
        table.add_column(column, justify="right")
    for row in results:
        table.add_row(
            "all" if row.channel == ALL else row.channel,
            str(row.step),
            row.event,
            str(row.people),
            f"{row.from_previous:.1%}",
            f"{row.from_first:.1%}",
            str(row.dropped),
            _duration(row.median_seconds_from_previous),
        )
    console.print(table)


@analytics_app.command("cohorts")
def cohorts(
    period: Annotated[Period, typer.Option(help="Cohorts by first-seen week or month.")] = (
        Period.week
    ),
    returning_on: Annotated[
        str | None, typer.Option(help="Count a return only for this event; default: any event.")
    ] = None,
    engine: EngineOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Retention: per cohort of first-seen week or month, the share active again in each
    period after, of those who could have reached that period by the data's end."""
    try:
        rows = retention(_model(engine), period.value, returning_on)
    finally:
        stop_spark()
    if format is Format.json:
        _json([{**asdict(row), "cohort": row.cohort.isoformat()} for row in rows])
        return
    if not rows:
        console.print("No events in the lake yet: nothing to put in cohorts.")
        return
    what = f"with {returning_on!r}" if returning_on else "with any event"
    table = Table(title=f"Retention by first-seen {period.value}, returning {what}")
    table.add_column("Cohort")
    for column in (period.value.capitalize(), "Cohort size", "Could reach", "Returned", "Share"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.cohort.isoformat(),
            str(row.period),
            str(row.size),
            str(row.eligible),
            str(row.people),
            f"{row.share:.1%}",
        )
    console.print(table)


@analytics_app.command("goals")
def goals(
    key: Annotated[str | None, typer.Argument(help="One goal; without it, every goal.")] = None,
    engine: Annotated[Engine | None, typer.Option(help="Default: TILLIT_ANALYTICS_ENGINE.")] = None,
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
    by: Annotated[
        Breakdown, typer.Option(help="channel, language, country, segment or week.")
    ] = Breakdown.channel,
) -> None:
    """Conversions per channel of the meeting: people met and converted, rate with its 95%
    Wilson interval, first touch, last touch and linear credit, value, hours to convert. With
    --by language, country, segment or week: met, converted, rate, conversions and value."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session:
        defined = all_goals(session=session)
        segments = segment_people(session) if by is Breakdown.segment else {}
    chosen = [g for g in defined if key is None or g.key == key]
    if key is not None and not chosen:
        raise typer.BadParameter(f"no goal {key!r}: `tillit analytics goals` lists them")
    try:
        backend = connect(ctx.settings, engine.value if engine else None)
        model = Model(backend, ctx.settings.data_dir)
        if by is not Breakdown.channel:
            broken = {
                goal.key: by_breakdown(model, goal, by.value, segments=segments) for goal in chosen
            }
        else:
            report = {goal.key: by_channel(model, goal) for goal in chosen}
    finally:
        stop_spark()
    if by is not Breakdown.channel:
        _breakdown_output(chosen, broken, by, format)
        return
    if format is Format.json:
        document = {k: [asdict(row) for row in rows] for k, rows in report.items()}
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return
    if not chosen:
        console.print("No goals yet: `tillit analytics define-goal` defines one.")
    for goal in chosen:
        table = Table(title=goal_title(goal))
        for column in ("Channel", "Met", "Converted", "Rate (95%)", "First", "Last"):
            table.add_column(column, justify="left" if column == "Channel" else "right")
        for column in ("Linear", "Value (linear)", "Hours to convert"):
            table.add_column(column, justify="right")
        for row in report[goal.key]:
            hours = "—" if row.mean_hours_to_convert is None else f"{row.mean_hours_to_convert:.1f}"
            table.add_row(
                row.channel,
                str(row.people_met),
                str(row.people_converted),
                f"{row.rate:.1%} ({row.rate_low:.1%}–{row.rate_high:.1%})",
                f"{row.first_touch:.0f}",
                f"{row.last_touch:.0f}",
                f"{row.linear:.1f}",
                f"{row.value_linear:,.2f}",
                hours,
            )
        console.print(table)


def _breakdown_output(
    chosen: list[EventGoal],
    report: dict[str, list[BreakdownResult]],
    by: Breakdown,
    format: Format,
) -> None:
    if format is Format.json:
        _json({k: [asdict(row) for row in rows] for k, rows in report.items()})
        return
    if not chosen:
        console.print("No goals yet: `tillit analytics define-goal` defines one.")
    for goal in chosen:
        table = Table(title=f"{goal_title(goal)}, by {by.value}")
        table.add_column(by.value.capitalize())
        for column in ("Met", "Converted", "Rate (95%)", "Conversions", "Value"):
            table.add_column(column, justify="right")
        for row in report[goal.key]:
            table.add_row(
                row.group,
                str(row.people_met),
                str(row.people_converted),
                f"{row.rate:.1%} ({row.rate_low:.1%}–{row.rate_high:.1%})",
                str(row.conversions),
                f"{row.value:,.2f}",
            )
        console.print(table)


@analytics_app.command("define-goal")
def define(
    key: Annotated[str, typer.Argument(help="Short key, e.g. orders.")],
    event: Annotated[
        str, typer.Option(help="Kind event: the event that reaches it, e.g. 'Order Completed'.")
    ] = "",
    kind: Annotated[
        GoalKind, typer.Option(help="event, consent (granted), answer (a question) or signup.")
    ] = GoalKind.event,
    purpose: Annotated[
        str | None, typer.Option(help="Kind consent: the purpose granted, e.g. marketing.")
    ] = None,
    question: Annotated[
        str | None, typer.Option(help="Kind answer: the question's key; default: any question.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name shown to staff; default: the key.")] = None,
    value: Annotated[
        str | None, typer.Option(help="Event property holding its value, e.g. revenue.")
    ] = None,
    window: Annotated[int, typer.Option(min=1, max=365, help="Days after a meeting.")] = 7,
    where: Annotated[
        list[str] | None, typer.Option(help="Property filter PROPERTY=VALUE; repeatable.")
    ] = None,
) -> None:
    """Define a goal reached by an event, a consent granted, an answer or a sign-up."""
    filters = {}
    for item in where or []:
        prop, sep, wanted = item.partition("=")
        if not sep or not prop:
            raise typer.BadParameter(f"{item!r}: write PROPERTY=VALUE", param_hint="--where")
        filters[prop] = wanted
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            define_goal(
                session=session,
                key=key,
                name=name or key,
                event=event,
                kind=kind.value,
                purpose=purpose,
                question=question,
                value_property=value,
                filters=filters,
                window_days=window,
                actor=Actor.system("tillit analytics define-goal"),
            )
    except TillitError as error:
        raise fail(error.detail) from error
    console.print(f"Goal {key!r} defined.")


segments_app = typer.Typer(help="Segments: save a definition, refresh membership, list them.")
analytics_app.add_typer(segments_app, name="segments")


@segments_app.command("save")
def save_segment_command(
    key: Annotated[str, typer.Argument(help="Short key, e.g. nordic-buyers.")],
    definition: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The rule tree as a JSON file.")
    ],
    purpose: Annotated[str, typer.Option(help="The consent purpose it serves, e.g. marketing.")],
    name: Annotated[str | None, typer.Option(help="Name shown to staff; default: the key.")] = None,
) -> None:
    """Create a segment, or save its definition as a new version."""
    try:
        document = orjson.loads(definition.read_bytes())
    except orjson.JSONDecodeError as error:
        raise fail(f"{definition}: not JSON ({error})") from error
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            segment = save_segment(
                session=session,
                key=key,
                name=name or key,
                purpose=purpose,
                definition=document,
                actor=Actor.system("tillit analytics segments save"),
            )
            version = segment.current_version
    except TillitError as error:
        raise fail(error.detail) from error
    console.print(f"Segment {key!r} saved as version {version}; members at the next refresh.")


@segments_app.command("refresh")
def refresh_command(
    engine: Annotated[Engine | None, typer.Option(help="Default: TILLIT_ANALYTICS_ENGINE.")] = None,
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
    force: Annotated[bool, typer.Option(help="Recompute even where nothing moved.")] = False,
) -> None:
    """Bring every segment's membership up to date now (the jobs process does it each round):
    only segments whose inputs moved are recomputed, only who entered and left is written."""
    ctx = context()
    ctx.migrate()
    data_dir = ctx.settings.data_dir
    try:
        report = refresh_segments(
            sessions=ctx.sessions,
            data_dir=data_dir,
            model=lambda: Model(connect(ctx.settings, engine.value if engine else None), data_dir),
            force=force,
        )
    finally:
        stop_spark()
    if format is Format.json:
        document = {
            "refreshed": {
                k: {"entered": e, "left": left} for k, (e, left) in report.refreshed.items()
            },
            "unchanged": report.unchanged,
            "failed": report.failed,
        }
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title="Segments refreshed")
    for column in ("Segment", "Outcome", "Entered", "Left"):
        table.add_column(column, justify="left" if column in ("Segment", "Outcome") else "right")
    for key, (entered, left) in report.refreshed.items():
        table.add_row(key, "recomputed", str(entered), str(left))
    for key in report.unchanged:
        table.add_row(key, "unchanged", "0", "0")
    for key, why in report.failed.items():
        table.add_row(key, f"failed: {why}", "—", "—")
    console.print(table)


@segments_app.command("list")
def list_command(
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
) -> None:
    """Every segment: size, purpose, left out for lack of consent, when last found current."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session:
        rows = [
            {
                "key": s.key,
                "name": s.name,
                "purpose": s.purpose_key,
                "version": s.current_version,
                "size": s.size,
                "left_out": s.left_out,
                "refreshed_at": s.refreshed_at.isoformat() if s.refreshed_at else None,
            }
            for s in all_segments(session)
        ]
    if format is Format.json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        console.print("No segments yet: `tillit analytics segments save` defines one.")
        return
    table = Table(title="Segments")
    for column in ("Segment", "Purpose", "Version", "Members", "Left out", "Refreshed"):
        table.add_column(column, justify="right" if column in ("Members", "Left out") else "left")
    for row in rows:
        table.add_row(
            f"{row['key']} ({row['name']})",
            str(row["purpose"]),
            str(row["version"]),
            str(row["size"]),
            str(row["left_out"]),
            str(row["refreshed_at"] or "never"),
        )
    console.print(table)
