"""``tillit insight``: feedback themes from the command line."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from tillit.audit.service import Actor
from tillit.cli.context import console, context

insight_app = typer.Typer(
    help="Feedback insight: languages, sentiment, themes.", no_args_is_help=True
)


def load_demo_feedback_once() -> int:
    """Load the five-language demo feedback unless some is already stored; returns how many."""
    from tillit.feedback.demo import DEMO_SOURCE, load_demo_feedback
    from tillit.feedback.models import Feedback

    ctx = context()
    with ctx.sessions() as session, session.begin():
        stored = session.scalar(select(func.count()).where(Feedback.source == DEMO_SOURCE))
        if stored:
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
