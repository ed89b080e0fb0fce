"""`tillit quality`: data quality per source and field, as a table."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tillit.quality import DIMENSIONS, measure

from .context import console, context


def _percent(score: float | None) -> str:
    return "—" if score is None else f"{score:.0%}"


def quality(
    source: Annotated[
        str | None, typer.Option(help="Only this source, e.g. 'web shop' or 'profile'.")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Current = seen within DAYS (default TILLIT_QUALITY_CURRENT_DAYS)."
        ),
    ] = None,
) -> None:
    """Score each source's fields: correct, complete, current, consistent, usable, precise,
    structured, relevant (docs/events.md, "Data quality")."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session:
        report = measure(
            session=session,
            default_country=ctx.settings.default_country,
            source=source,
            current_days=days or ctx.settings.quality_current_days,
        )
    if not report.sources:
        console.print("No data yet." if source is None else f"No data from {source!r}.")
        return
    for entry in report.sources:
        table = Table(title=entry.source, title_justify="left")
        table.add_column("Field")
        table.add_column("Values", justify="right")
        for dimension in DIMENSIONS:
            table.add_column(dimension, justify="right")
        table.add_row("[bold]all (mean)", "", *(_percent(entry.score(d)) for d in DIMENSIONS))
        for found in entry.fields:
            table.add_row(
                found.label, str(found.values), *(_percent(found.score(d)) for d in DIMENSIONS)
            )
        console.print(table)
