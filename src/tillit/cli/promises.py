"""`tillit promises`: the company's promises, measured against what the records show."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tillit.analytics.engine import connect, stop_spark
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.errors import TillitError
from tillit.promises import report
from tillit.promises.alerts import make_alert
from tillit.promises.store import ensure_catalogue, measure_promises, update_promise

from .context import console, context, fail

promises_app = typer.Typer(help="The company's promises, measured against what it did.")


class Format(StrEnum):
    table = "table"
    json = "json"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@promises_app.command("list")
def list_command(
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
    lang: Annotated[str, typer.Option(help="Language of the texts: en, da, sv, nb, nl.")] = "en",
) -> None:
    """Each promise beside what was measured (kept share over 28 days, budget, broken)."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session, session.begin():
        ensure_catalogue(session=session, settings=ctx.settings)
        found = report.summaries(session=session, settings=ctx.settings, language=lang)
        rows = [report.as_json(s) for s in found]
    if format is Format.json:
        console.print_json(orjson.dumps(rows).decode())
        return
    table = Table("Promise", "Text", "Target", "Kept (28 d)", "Budget left", "Broken", "Alert")
    for row in rows:
        budget = row["budget_remaining"]
        table.add_row(
            row["key"],
            row["text"],
            _share(row["target"]),
            _share(row["kept_share"]),
            "-" if budget is None else f"{budget:.0%}",
            str(row["broken"]),
            "burning" if row["alerting"] else "",
        )
    console.print(table)


@promises_app.command("measure")
def measure_command(
    engine: Annotated[Engine | None, typer.Option(help="Default: TILLIT_ANALYTICS_ENGINE.")] = None,
    force: Annotated[bool, typer.Option(help="Measure even where nothing moved.")] = False,
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
) -> None:
    """Refresh the snapshots and measure every promise now (the jobs process does it each
    round): only promises whose records moved, or on a new day, are measured again."""
    ctx = context()
    ctx.migrate()
    data_dir = ctx.settings.data_dir
    try:
        refresh_snapshots(sessions=ctx.sessions, data_dir=data_dir)
        result = measure_promises(
            sessions=ctx.sessions,
            settings=ctx.settings,
            model=lambda: Model(connect(ctx.settings, engine.value if engine else None), data_dir),
            force=force,
            alert=make_alert(ctx.settings),
        )
    finally:
        stop_spark()
    summary: dict[str, Any] = {
        "measured": result.measured,
        "unchanged": result.unchanged,
        "alerts": result.alerts,
    }
    if format is Format.json:
        console.print_json(json.dumps(summary))
        return
    console.print(
        f"Measured {len(result.measured)}, unchanged {len(result.unchanged)}, "
        f"alerts {len(result.alerts)}."
    )


@promises_app.command("set")
def set_command(
    key: Annotated[str, typer.Argument(help="The promise, e.g. complaint-first-reply.")],
    target: Annotated[float | None, typer.Option(help="Share to keep, e.g. 0.99.")] = None,
    parameters: Annotated[
        str | None, typer.Option(help="Parameters as JSON, e.g. '{\"hours\": 12}'.")
    ] = None,
    active: Annotated[bool | None, typer.Option(help="Measure and show it, or not.")] = None,
) -> None:
    """Change a promise's target, parameters or whether it is active (audited)."""
    changes: dict[str, Any] = {}
    if target is not None:
        changes["target"] = target
    if parameters is not None:
        try:
            changes["parameters"] = orjson.loads(parameters)
        except orjson.JSONDecodeError as error:
            raise fail(f"--parameters is not JSON ({error})") from error
    if active is not None:
        changes["active"] = active
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            ensure_catalogue(session=session, settings=ctx.settings)
            update_promise(
                session=session,
                key=key,
                changes=changes,
                actor=Actor.system("tillit promises set"),
            )
    except TillitError as error:
        raise fail(str(error) if not hasattr(error, "errors") else _errors(error)) from error
    console.print(f"Changed {key}; it is measured again at the next round.")


def _errors(error: TillitError) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in getattr(error, "errors", []))
