"""``tillit insight``: feedback themes from the command line."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from tillit.audit.service import Actor
from tillit.cli.context import console, context, fail, work_progress

insight_app = typer.Typer(
    help="Feedback insight: languages, sentiment, themes.", no_args_is_help=True
)


def load_demo_feedback_once() -> int:
    """Load the five-language demo feedback unless some is already stored; returns how many."""
    from tillit.feedback.demo import load_demo_feedback, stored_demo_feedback

    ctx = context()
    with ctx.sessions() as session, session.begin():
        if stored_demo_feedback(session=session):
            return 0
        with console.status("Analysing the demo feedback (languages, sentiment, themes)…"):
            return load_demo_feedback(
                session=session, actor=Actor.system("tillit insight load-demo")
            )


@insight_app.command("load-demo")
def load_demo() -> None:
    """Load ~480 fictional comments in five languages and discover their themes."""
    context().migrate()
    loaded = load_demo_feedback_once()
    console.print(f"Loaded {loaded} demo comments." if loaded else "Demo feedback already loaded.")


@insight_app.command("analyse")
def analyse_file(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV with a 'text' column, or JSON Lines.",
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Results CSV. Default: FILE.insight.csv")] = None,
    themes: Annotated[int | None, typer.Option(help="How many themes; default: found.")] = None,
) -> None:
    """Language, sentiment and themes for a file of feedback, offline. Bad lines go to
    FILE.rejects.csv with their line numbers; nothing is stored in the database."""
    from tillit.insight.feedback_file import read_feedback, write_results
    from tillit.insight.pipeline import analyse

    try:
        parsed = read_feedback(file)
    except ValueError as error:
        raise fail(f"{file}: {error}") from error
    out = out or file.with_suffix(".insight.csv")
    if parsed.comments:
        with work_progress("Analysing") as progress:
            task = progress.add_task("comments", total=len(parsed.comments))
            result = analyse(
                parsed.comments,
                theme_count=themes,
                progress=lambda done, total: progress.update(task, completed=done),
            )
        write_results(out, parsed.comments, result)
        console.print(f"{len(parsed.comments)} comments, {len(result.themes)} themes -> {out}")
        for theme in sorted(result.themes, key=lambda t: -t.size)[:10]:
            console.print(f"  {theme.size:5d}  {theme.label}")
    if parsed.rejected:
        rejects = file.with_suffix(".rejects.csv")
        with rejects.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "reason"])
            writer.writerows(parsed.rejected)
        console.print(f"[yellow]{len(parsed.rejected)} bad line(s) in {rejects}[/]")
        raise typer.Exit(1)
