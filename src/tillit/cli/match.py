"""`tillit match run`: probabilistic matching of profiles from two sources."""

from __future__ import annotations

from typing import Annotated

import typer

from tillit.audit.service import Actor
from tillit.identity.suggestions import run_matching

from .context import console, context

match_app = typer.Typer(help="Find one person's profiles that share no key.", no_args_is_help=True)


@match_app.command("run")
def match_run(
    left: Annotated[str, typer.Argument(help="Source name, e.g. 'store'.")],
    right: Annotated[str, typer.Argument(help="Source name, e.g. 'web shop'.")],
) -> None:
    """Link two sources' profiles; merge above TILLIT_MATCH_AUTO_THRESHOLD, suggest the rest."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session, session.begin():
        report = run_matching(
            session=session,
            left_source=f"source:{left}",
            right_source=f"source:{right}",
            auto_threshold=ctx.settings.match_auto_threshold,
            actor=Actor.system("tillit match run"),
            memory_limit=ctx.settings.match_memory_limit,
            spill_directory=ctx.settings.data_dir / "tmp" / "matching",
        )
    console.print(f"{report.suggested} suggestions, {report.merged} merged automatically")
