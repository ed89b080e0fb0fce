"""`tillit outbox send` and `tillit outbox status`: the outbox from cron or a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tillit.outbox import OutboxState, send_due, state_counts
from tillit.storage import make_engine, make_session_factory
from tillit.storage.base import utcnow

from .context import console, context

outbox_app = typer.Typer(
    help="Messages waiting to be sent, and sending them.", no_args_is_help=True
)


@outbox_app.command("send")
def send(
    limit: Annotated[
        int | None, typer.Option(min=1, help="Send at most this many messages.")
    ] = None,
) -> None:
    """Send the due messages in the outbox: e-mail over SMTP (TILLIT_SMTP_*), other channels
    through TILLIT_GATEWAY_URL, each through the contact policy at the moment of sending."""
    ctx = context()
    ctx.migrate()
    # A pooled engine: every message is settled in a transaction of its own.
    engine = make_engine(ctx.settings.resolved_database_url)
    try:
        report = send_due(make_session_factory(engine), ctx.settings, now=utcnow(), limit=limit)
    finally:
        engine.dispose()
    console.print(
        f"claimed {report.claimed}, sent {report.sent}, retried {report.retried}, "
        f"failed {report.failed}, bounced {report.bounced}, held {report.held}, "
        f"deferred {report.deferred}, given back {report.returned}"
    )
    for error in report.errors:
        console.print(f"[yellow]{error}[/yellow]")


@outbox_app.command("status")
def status() -> None:
    """How many messages of each source are in each state."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session:
        counts = state_counts(session)
    table = Table("source", *(state.value for state in OutboxState))
    for source, by_state in counts.items():
        table.add_row(source, *(str(by_state[state.value]) for state in OutboxState))
    console.print(table if counts else "the outbox is empty")
