"""`tillit jobs run`: the recurring jobs on their own (``tillit serve`` starts it itself)."""

from __future__ import annotations

import logging
import os
from contextlib import suppress
from typing import Annotated

import typer

from tillit.background import NICENESS, run_jobs_forever
from tillit.cli.context import context
from tillit.identity.rules import load_rules
from tillit.jobs.rounds import JobContext, run_rounds

jobs_app = typer.Typer(help="Recurring background jobs.", no_args_is_help=True)


@jobs_app.command("run")
def run(
    parent: Annotated[
        int | None, typer.Option(help="Stop when the process with this id has gone.")
    ] = None,
    rounds: Annotated[int | None, typer.Option(min=1, help="Stop after this many rounds.")] = None,
) -> None:
    """Every TILLIT_JOBS_INTERVAL_SECONDS, until stopped: import the event files sent to the
    API, export new events to the lake, send due dialogue invitations and escalate overdue
    cases (the rounds of tillit.jobs.rounds)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ctx = context()
    ctx.migrate()
    interval = ctx.settings.jobs_interval_seconds
    if interval <= 0:
        raise typer.BadParameter("TILLIT_JOBS_INTERVAL_SECONDS is 0: the jobs are off")
    os.nice(NICENESS)  # the whole process: requests first, the jobs when there is room
    jobs = JobContext(
        sessions=ctx.sessions,
        settings=ctx.settings,
        defaults=ctx.defaults,
        rules=load_rules(),  # once, as a server process does
    )
    with suppress(KeyboardInterrupt):  # Ctrl-C on `tillit serve` reaches this child too
        run_jobs_forever(
            lambda: run_rounds(jobs),
            interval=interval,
            parent=parent,
            rounds=rounds,
        )
