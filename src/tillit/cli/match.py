"""`tillit match run` and `tillit match suggestions`: probabilistic matching and its results."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from tillit.analytics.engine import spark_session, stop_spark
from tillit.audit.service import Actor
from tillit.errors import Conflict, InvalidInput, NotFound
from tillit.identity import review
from tillit.identity.suggestions import (
    SuggestionFilter,
    UnknownSource,
    list_suggestions,
    match_sources,
)

from .context import console, context, fail

match_app = typer.Typer(help="Find one person's profiles that share no key.", no_args_is_help=True)


@match_app.command("run")
def match_run(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Sources: a tracking source ('store') or a customer import "
            "('import:customers.csv'). One: duplicates within it; several: the same people "
            "across them; none: the whole workspace.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Match profiles; merge at or above TILLIT_MATCH_AUTO_THRESHOLD (within the identity
    limits), keep pairs down to TILLIT_MATCH_REVIEW_FLOOR as suggestions to review."""
    ctx = context()
    ctx.migrate()
    spark = spark_session(ctx.settings) if ctx.settings.analytics_engine == "spark" else None
    try:
        with ctx.sessions() as session, session.begin():
            report = match_sources(
                session=session,
                settings=ctx.settings,
                names=sources or None,
                actor=Actor.system("tillit match run"),
                spark=spark,
            )
    except (UnknownSource, InvalidInput) as error:
        raise fail(error.detail) from error
    finally:
        stop_spark()
    console.print(
        f"{report.records} profiles compared: {report.suggested} new suggestions, "
        f"{report.merged} merged automatically"
    )
    if report.held:
        console.print(
            f"[yellow]{report.held} likely pairs not merged: the merge would break an identity "
            "limit (TILLIT_IDENTITY_LIMITS); they wait for review[/]"
        )
    for name, count in sorted(report.unreadable.items()):
        console.print(f"[yellow]{name}: {count} values could not be read; compared as missing[/]")
    for name, count in sorted(report.blocked.items()):
        console.print(f"{name}: {count} blocked values (TILLIT_IDENTITY_BLOCKED_*) left out")
    if report.not_compared:
        console.print(f"Not compared (no profile has a value): {', '.join(report.not_compared)}")
    for warning in report.warnings:
        console.print(f"[dim]Splink: {warning}[/]")
    if report.seconds:
        console.print(
            "[dim]"
            + ", ".join(f"{part} {seconds:.2f} s" for part, seconds in report.seconds.items())
            + "[/]"
        )


class Format(StrEnum):
    csv = "csv"
    json = "json"


@match_app.command("suggestions")
def suggestions(
    output: Annotated[
        Format, typer.Option("--format", help="csv or json, to stdout.")
    ] = Format.csv,
    status: Annotated[str, typer.Option(help="open, auto, accepted, rejected, or all.")] = "open",
    min_probability: Annotated[float, typer.Option(min=0, max=1)] = 0.0,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
) -> None:
    """Suggestions, most probable first, with each compared field's evidence."""
    if status not in ("open", "auto", "accepted", "rejected", "all"):
        raise fail(f"--status: {status!r} is not one of open, auto, accepted, rejected, all")
    ctx = context()
    ctx.migrate()
    where = SuggestionFilter(
        status=None if status == "all" else status, min_probability=min_probability
    )
    with ctx.sessions() as session:
        found = list_suggestions(session=session, where=where, limit=limit)
        rows: list[dict[str, Any]] = [
            {
                "id": s.id,
                "left_customer_id": s.left_customer_id,
                "right_customer_id": s.right_customer_id,
                "probability": round(s.probability, 6),
                "status": s.status,
                "merge_id": s.merge_id,
                "evidence": s.evidence or {},
            }
            for s in found
        ]
    if output is Format.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    fields = sorted({name for row in rows for name in row["evidence"]})
    writer = csv.writer(sys.stdout)
    header = ["id", "left_customer_id", "right_customer_id", "probability", "status", "merge_id"]
    writer.writerow(header + [f"{f}_{part}" for f in fields for part in ("verdict", "weight")])
    for row in rows:
        evidence = row["evidence"]
        writer.writerow(
            [row[h] for h in header]
            + [evidence.get(f, {}).get(part, "") for f in fields for part in ("verdict", "weight")]
        )


class Decision(StrEnum):
    accept = "accept"
    reject = "reject"


@match_app.command("decide")
def decide(
    decision: Annotated[Decision, typer.Argument(help="accept (merge) or reject.")],
    suggestion_ids: Annotated[
        list[int], typer.Argument(help="Suggestion ids, as `tillit match suggestions` lists them.")
    ],
) -> None:
    """Accept or reject open suggestions, all or none, each audited. A profile merged away
    since the suggestion was made is followed to the profile that holds it now."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            decided = review.decide_many(
                session=session,
                suggestion_ids=suggestion_ids,
                accept=decision is Decision.accept,
                actor=Actor.system("tillit match decide"),
            )
            lines = [
                f"{s.id}: rejected"
                if decision is Decision.reject
                else f"{s.id}: merged (merge {s.merge_id})"
                if s.merge_id is not None
                else f"{s.id}: already one profile, nothing to merge"
                for s in decided
            ]
    except (NotFound, Conflict) as error:
        raise fail(error.detail) from error
    for line in lines:
        console.print(line)
