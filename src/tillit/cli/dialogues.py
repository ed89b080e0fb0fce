"""Dialogue and case commands: send due invitations, expire old asks, escalate overdue cases."""

from __future__ import annotations

from typing import Annotated

import typer

from tillit.dialogues import cases, widget
from tillit.dialogues.jobs import send_due_invitations

from .context import console, context

dialogues_app = typer.Typer(help="Dialogue invitations and questions.", no_args_is_help=True)
cases_app = typer.Typer(help="Closed-loop cases.", no_args_is_help=True)


@dialogues_app.command("send")
def send() -> None:
    """Plan periodic questions, expire old asks, and e-mail the invitations that are due
    (each through the fatigue rules and the contact policy)."""
    ctx = context()
    ctx.migrate()  # like every other command: a fresh or older database is brought up to date
    with ctx.sessions() as session:
        counts = send_due_invitations(session=session, settings=ctx.settings)
    console.print(
        f"planned {counts['planned']}, expired {counts['expired']}, sent {counts['sent']}, "
        f"deferred {counts['deferred']}, held {counts['held']}, failed {counts['failed']}"
    )


@dialogues_app.command("widget-token")
def widget_token(customer_id: Annotated[int, typer.Argument(help="Customer id.")]) -> None:
    """Print the widget token to embed for one signed-in customer."""
    console.print(widget.widget_token(customer_id, context().settings.secret_key))


@cases_app.command("escalate")
def escalate() -> None:
    """Escalate every case whose first-response or resolution SLA has passed."""
    ctx = context()
    ctx.migrate()  # like every other command: a fresh or older database is brought up to date
    with ctx.sessions() as session:
        escalated = cases.escalate_overdue(session)
        session.commit()
        for case in escalated:
            console.print(f"case #{case.id}: escalated to level {case.escalation_level}")
    console.print(f"{len(escalated)} case(s) escalated")
