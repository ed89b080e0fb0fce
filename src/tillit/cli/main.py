"""The ``tillit`` command. Each area adds a sub-command group in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from tillit import __version__
from tillit.cli import admin, consent, imports
from tillit.cli import campaigns as campaigns_cli
from tillit.cli import dialogues as dialogues_cli
from tillit.cli import events as events_cli
from tillit.cli import experiments as experiments_cli
from tillit.cli import insight as insight_cli
from tillit.cli.analytics import analytics_app
from tillit.cli.context import console, context
from tillit.cli.jobs import jobs_app
from tillit.cli.match import match_app
from tillit.cli.outbox import outbox_app
from tillit.cli.promises import promises_app
from tillit.cli.quality import quality
from tillit.config import Settings
from tillit.demo.simulation.options import DEFAULT_CUSTOMERS, DEFAULT_DAYS, DEFAULT_SEED

app = typer.Typer(
    name="tillit",
    help="Tillit: customer-managed relationships. The customer steers; the company listens.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.tokens_app, name="tokens")
app.add_typer(imports.import_app, name="import")
app.add_typer(consent.consent_app, name="consent")
app.add_typer(consent.links_app, name="links")
app.add_typer(events_cli.sources_app, name="sources")
app.add_typer(events_cli.events_app, name="events")
app.add_typer(match_app, name="match")
app.add_typer(dialogues_cli.dialogues_app, name="dialogues")
app.add_typer(dialogues_cli.cases_app, name="cases")
app.add_typer(insight_cli.insight_app, name="insight")
app.add_typer(experiments_cli.experiments_app, name="experiments")
app.add_typer(campaigns_cli.campaigns_app, name="campaigns")
app.add_typer(jobs_app, name="jobs")
app.add_typer(analytics_app, name="analytics")
app.add_typer(outbox_app, name="outbox")
app.add_typer(promises_app, name="promises")
app.command("quality")(quality)


def _version(value: bool) -> None:
    if value:
        console.print(f"tillit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Run `tillit COMMAND --help` for a command's options."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes; one per core is a good start.")
    ] = 1,
) -> None:
    """Migrate the database, then serve the API and pages."""
    ctx = context()
    ctx.migrate()
    _serve(ctx.settings, host=host, port=port, workers=workers)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    customers: Annotated[
        int,
        # Fewer leave matching too few record pairs to train on.
        typer.Option(min=100, help="How many fictional people to simulate (at least 100)."),
    ] = DEFAULT_CUSTOMERS,
    days: Annotated[int, typer.Option(min=30, max=3650, help="How many days to simulate.")] = (
        DEFAULT_DAYS
    ),
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same year.")] = (
        DEFAULT_SEED
    ),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the data, then stop.")] = False,
) -> None:
    """Migrate, simulate a year of a fictional retailer (once per data directory), print a
    staff login and serve."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from tillit.demo.loader import ensure_demo_staff
    from tillit.demo.simulation.options import Options
    from tillit.demo.simulation.run import simulate

    ctx = context()
    ctx.migrate()
    login = ensure_demo_staff(sessions=ctx.sessions, data_dir=ctx.settings.data_dir)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(title: str, done: int, total: int) -> None:
            if title not in tasks:
                tasks[title] = progress.add_task(title, total=total)
            progress.update(tasks[title], completed=done, total=total, description=title)

        report = simulate(
            sessions=ctx.sessions,
            settings=ctx.settings,
            defaults=ctx.defaults,
            options=Options(customers=customers, days=days, seed=seed),
            progress=advance,
        )
    if report.simulated:
        counts = report.counts
        console.print(
            f"Simulated {customers:,} people over {days} days in {report.seconds:.0f} s: "
            f"{counts.get('profiles', 0):,} profiles, {counts.get('events', 0):,} events, "
            f"{counts.get('consents granted', 0):,} consents granted, "
            f"{sum(v for k, v in counts.items() if k.startswith('answers ')):,} answers, "
            f"{counts.get('match suggestions', 0):,} match suggestions."
        )
        console.print(f"Latent truth (for evaluation only): {report.truth}")
    else:
        console.print(f"Demo data not simulated again: {report.reason}.")
    url = f"http://{host}:{port}/"
    console.rule("[bold]Tillit demo")
    console.print(f"Open      [link={url}]{url}[/link]")
    console.print(f"Sign in   {login.email}  /  {login.password}")
    console.print("(analyst@, agent@ and privacy@example.com use the same password)")
    console.rule()
    if not no_serve:
        _serve(ctx.settings, host=host, port=port, workers=1)


def _serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    import uvicorn

    from tillit.background import start_jobs_process, stop_jobs_process

    jobs = start_jobs_process(settings)  # beside the web workers, not in them
    try:
        uvicorn.run(
            "tillit.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="info",
        )
    finally:
        stop_jobs_process(jobs)
