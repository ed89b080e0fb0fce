"""Importing files: customers now; events join in their own area."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from tillit.audit.service import Actor
from tillit.customers.importer import BadFile, import_customers, write_rejects

from .context import console, context, fail, work_progress

import_app = typer.Typer(help="Import files.", no_args_is_help=True)


@import_app.command("customers")
def customers(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CSV with a header row, UTF-8."
        ),
    ],
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where bad rows go (line, reason, row). Default: FILE.rejects.csv"),
    ] = None,
) -> None:
    """Import customers from CSV. Good rows are committed, bad rows written to a rejects file
    with their line numbers; running the same file again changes nothing."""
    ctx = context()
    ctx.migrate()
    rejects = rejects or file.with_suffix(".rejects.csv")
    with file.open(encoding="utf-8-sig", newline="") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)
        handle.seek(0)
        header = handle.readline()
        handle.seek(0)
        columns: list[str] = next(iter(csv.reader([header])), [])
        progress = work_progress("Importing")
        with progress:
            task = progress.add_task("rows", total=total)
            try:
                report = import_customers(
                    sessions=ctx.sessions,
                    source=handle,
                    defaults=ctx.defaults,
                    actor=Actor.system(f"import {file.name}"),
                    source_name=f"import:{file.name}",
                    progress=lambda n: progress.advance(task, n),
                )
            except BadFile as error:
                raise fail(f"{file}: {error}") from error
            progress.update(task, completed=total)
    console.print(
        f"created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {len(report.rejected)}"
    )
    if report.rejected:
        write_rejects(rejects, report, columns)
        console.print(f"[yellow]Rejected rows are in {rejects}[/]")
        for line, reason, _ in sorted(report.rejected)[:5]:
            console.print(f"  line {line}: {reason}")
        raise typer.Exit(1)
