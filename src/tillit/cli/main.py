"""The ``tillit`` command. Each area adds a sub-command group in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from tillit import __version__
from tillit.cli import admin, consent, imports
from tillit.cli import dialogues as dialogues_cli
from tillit.cli import events as events_cli
from tillit.cli import insight as insight_cli
from tillit.cli.context import console, context
from tillit.cli.jobs import jobs_app
from tillit.cli.match import match_app
from tillit.cli.quality import quality
from tillit.config import Settings

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
app.add_typer(jobs_app, name="jobs")
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
    customers: Annotated[int, typer.Option(help="How many fictional customers to load.")] = 3000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the data, then stop.")] = False,
) -> None:
    """Migrate, load fictional demo data (once), print a staff login and serve."""
    from rich.progress import Progress

    from tillit.demo.loader import ensure_demo_staff, load_demo_customers

    ctx = context()
    ctx.migrate()
    login = ensure_demo_staff(sessions=ctx.sessions, data_dir=ctx.settings.data_dir)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Loading demo customers", total=customers)
        report = load_demo_customers(
            sessions=ctx.sessions,
            defaults=ctx.defaults,
            count=customers,
            progress=lambda n: progress.advance(task, n),
        )
    if report is not None:
        console.print(f"Loaded {report.created} demo customers.")
    if feedback := insight_cli.load_demo_feedback_once():
        console.print(f"Loaded {feedback} demo comments in five languages.")
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
