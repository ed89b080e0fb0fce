"""`tillit campaigns`: draft from a JSON file, approve, plan a round, send what is due, and show
the status with the funnel and the hold-back reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tillit.audit.service import Actor
from tillit.campaigns import delivery, service, words
from tillit.campaigns.definitions import parse_definition_json
from tillit.errors import InvalidInput, TillitError

from .context import console, context, fail

campaigns_app = typer.Typer(
    help="Campaigns: draft, approve, plan, send, status.", no_args_is_help=True
)
CLI_ACTOR = Actor.system("cli")


def _problem(error: TillitError) -> typer.Exit:
    if isinstance(error, InvalidInput):
        return fail("\n".join(f"{e.field}: {e.message}" for e in error.errors))
    return fail(error.detail)


@campaigns_app.command("create")
def create(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="A JSON definition."),
    ],
) -> None:
    """Draft a campaign from a JSON file (docs/campaigns.md shows one)."""
    ctx = context()
    ctx.migrate()
    try:
        definition = parse_definition_json(file.read_bytes())
        with ctx.sessions() as session, session.begin():
            key = service.create_campaign(
                session=session, definition=definition, actor=CLI_ACTOR
            ).key
    except TillitError as error:
        raise _problem(error) from error
    console.print(f"Drafted campaign [bold]{key}[/]; an admin approves it.")


@campaigns_app.command("approve")
def approve(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Approve a draft (and start its relevance-against-blast experiment, if it has one)."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            service.approve_campaign(session=session, key=key, actor=CLI_ACTOR)
    except TillitError as error:
        raise _problem(error) from error
    console.print(f"Approved {key}.")


@campaigns_app.command("plan")
def plan(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Plan this round: every audience member scheduled or held, with the reason."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            report = service.plan_campaign(
                session=session, settings=ctx.settings, key=key, actor=CLI_ACTOR
            )
    except TillitError as error:
        raise _problem(error) from error
    note = " (planned before; nothing new)" if report.already else ""
    console.print(
        f"{key} {report.occurrence}{note}: audience {report.audience}, allowed "
        f"{report.allowed}, relevant {report.relevant}, scheduled {report.scheduled}",
        highlight=False,
    )
    for reason, count in sorted(report.held.items(), key=lambda item: -item[1]):
        console.print(
            f"  held: {words.STAFF_REASONS.get(reason, reason)}: {count}", highlight=False
        )


@campaigns_app.command("send")
def send(
    key: Annotated[str, typer.Argument(help="The campaign's key.")],
    limit: Annotated[int | None, typer.Option(help="Send at most this many now.")] = None,
) -> None:
    """Send this campaign's messages that are due, through the outbox (each exactly once)."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session:
            service.get_campaign(session=session, key=key)
        sent = delivery.send_campaign(ctx.sessions, ctx.settings, key, limit=limit)
    except TillitError as error:
        raise _problem(error) from error
    console.print(f"{key}: {sent}", highlight=False)


@campaigns_app.command("status")
def status(
    key: Annotated[str | None, typer.Argument(help="One campaign; default: all.")] = None,
) -> None:
    """Each campaign's status, its funnel and why members were held back."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session:
            campaigns = (
                [service.get_campaign(session=session, key=key)]
                if key
                else service.list_campaigns(session=session)
            )
            funnels = service.funnels(session=session, campaigns=campaigns)
            for campaign, funnel in zip(campaigns, funnels, strict=True):
                steps = " > ".join(
                    f"{step.replace('_', ' ')} {funnel.steps[step]}"
                    for step in service.FUNNEL_STEPS
                )
                console.print(f"[bold]{campaign.key}[/] ({campaign.status}): {steps}")
                for reason, count in sorted(funnel.held.items(), key=lambda item: -item[1]):
                    label = words.STAFF_REASONS.get(reason, reason)
                    console.print(f"  held: {label}: {count}", highlight=False)
    except TillitError as error:
        raise _problem(error) from error
