"""`tillit sources`, `tillit events` and `tillit import events`."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tillit.audit.service import Actor
from tillit.errors import Conflict
from tillit.events.import_jobs import run_queued
from tillit.events.importing import import_file, write_rejects
from tillit.events.lake import connect, export_events
from tillit.events.sources import create_source, get_or_create_source, list_sources
from tillit.identity.rules import load_rules
from tillit.vocabulary import SourceChannel

from .context import console, context, fail, work_progress
from .imports import import_app

sources_app = typer.Typer(help="Event sources and their write keys.", no_args_is_help=True)
events_app = typer.Typer(help="The event lake.", no_args_is_help=True)


@sources_app.command("create")
def sources_create(
    name: Annotated[str, typer.Argument(help="A name staff recognise, e.g. 'web shop'.")],
    channel: Annotated[
        SourceChannel, typer.Option(help="Channel of events that name none.")
    ] = SourceChannel.web,
) -> None:
    """Create a source and print its write key (shown once)."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session, session.begin():
        try:
            source, key = create_source(
                session=session, name=name, channel=channel, actor=Actor.system("cli")
            )
        except Conflict as error:
            raise fail(error.detail) from error
    console.print(f"Source {source.id} [bold]{name}[/] ({channel}); write key:")
    console.print(key, highlight=False, soft_wrap=True)


@sources_app.command("list")
def sources_list() -> None:
    """List sources."""
    ctx = context()
    ctx.migrate()
    table = Table("id", "name", "channel", "active")
    with ctx.sessions() as session:
        for source in list_sources(session=session):
            table.add_row(str(source.id), source.name, source.channel, str(source.active))
    console.print(table)


@import_app.command("events")
def import_events(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="JSON Lines (one message a line) or CSV.",
        ),
    ],
    source: Annotated[str, typer.Option(help="Source name; made if missing.")] = "import",
    channel: Annotated[
        SourceChannel, typer.Option(help="Channel for a new source.")
    ] = SourceChannel.web,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Bad lines (line, reason) as JSON Lines. Default: FILE.rejects.jsonl"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Processes that parse ahead of the store (0: none). "
            "Default: as many as the cores, for JSON Lines files of 4 MiB or more.",
        ),
    ] = None,
) -> None:
    """Import events. Resumes where a stopped run stopped; re-running changes nothing."""
    ctx = context()
    ctx.migrate()
    rejects = rejects or file.with_suffix(".rejects.jsonl")
    with ctx.sessions() as session, session.begin():
        found = get_or_create_source(
            session=session, name=source, channel=channel, actor=Actor.system("cli")
        )
    with file.open("rb") as handle:
        total = sum(1 for _ in handle) - (1 if file.suffix.lower() == ".csv" else 0)
    progress = work_progress("Importing")
    with progress:
        task = progress.add_task("lines", total=total)
        report = import_file(
            sessions=ctx.sessions,
            path=file,
            source=found,
            rules=load_rules(),
            defaults=ctx.defaults,
            progress=lambda n: progress.advance(task, n),
            rejected=partial(write_rejects, rejects),  # as each chunk commits
            workers=workers,
        )
        progress.update(task, completed=total)
    if report.resumed_from:
        console.print(f"resumed after line {report.resumed_from}")
    console.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, "
        f"rejected {len(report.rejected)}"
    )
    if report.rejected:
        console.print(f"[yellow]Rejected lines are in {rejects}[/]")
        for line, reason in report.rejected[:5]:
            console.print(f"  line {line}: {reason}")
        raise typer.Exit(1)


@import_app.command("queued")
def import_queued() -> None:
    """Import the event files sent to the API that wait (what `tillit serve`'s jobs process
    does every round): for cron, when TILLIT_JOBS_INTERVAL_SECONDS is 0."""
    ctx = context()
    ctx.migrate()
    counts = run_queued(
        sessions=ctx.sessions,
        data_dir=ctx.settings.data_dir,
        rules=load_rules(),
        defaults=ctx.defaults,
    )
    console.print(f"imported {counts['imports_done']} file(s), {counts['imports_failed']} failed")
    if counts["imports_failed"]:
        raise typer.Exit(1)


@events_app.command("export")
def events_export(
    settle: Annotated[int, typer.Option(help="Leave out events younger than this (seconds).")] = 0,
) -> None:
    """Write new events to the Parquet lake (data_dir/lake/events); safe to re-run."""
    ctx = context()
    ctx.migrate()
    total = 0
    while True:
        report = export_events(
            sessions=ctx.sessions, data_dir=ctx.settings.data_dir, settle_seconds=settle
        )
        total += report.events
        if not report.events:
            break
    console.print(f"exported {total} events; watermark {report.watermark}")


@events_app.command("query")
def events_query(
    sql: Annotated[str, typer.Argument(help="DuckDB SQL over the view `events`.")],
) -> None:
    """Query the lake with DuckDB."""
    ctx = context()
    result = connect(ctx.settings.data_dir).execute(sql)
    table = Table(*[c[0] for c in result.description or []])
    for row in result.fetchall():
        table.add_row(*[str(v) for v in row])
    console.print(table)
