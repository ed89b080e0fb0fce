"""`tillit experiments`: list, create from a JSON file, start, stop, serve a variant, the results
on the analytics layer, analyse a CSV file from elsewhere, and size an experiment."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tillit.analytics.engine import connect
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.errors import InvalidInput, TillitError
from tillit.experiments import assignment, offline, power, results, service
from tillit.experiments.definitions import parse_definition_json
from tillit.storage.base import utcnow

from .context import console, context, fail

experiments_app = typer.Typer(
    help="Experiments: define, run, serve, analyse.", no_args_is_help=True
)
CLI_ACTOR = Actor.system("cli")


def _problem(error: TillitError) -> typer.Exit:
    if isinstance(error, InvalidInput):
        return fail("\n".join(f"{e.field}: {e.message}" for e in error.errors))
    return fail(error.detail)


@experiments_app.command("list")
def list_() -> None:
    """Every experiment with its status and the persons exposed per variant."""
    ctx = context()
    ctx.migrate()
    table = Table("status", "started", "exposed per variant", "mixed")
    table.add_column("key", no_wrap=True)  # first on screen: see the column order below
    table.columns.insert(0, table.columns.pop())
    with ctx.sessions() as session:
        for experiment in service.list_experiments(session=session):
            units = assignment.analysis_units(session=session, key=experiment.key)
            counts = units.counts
            table.add_row(
                experiment.key,
                str(experiment.status),
                f"{experiment.started_at:%Y-%m-%d}" if experiment.started_at else "",
                ", ".join(f"{k} {counts.get(k, 0)}" for k in experiment.variant_keys),
                str(units.mixed),
            )
    console.print(table)


@experiments_app.command("create")
def create(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="A JSON definition."),
    ],
) -> None:
    """Draft an experiment from a JSON file (docs/experiments.md shows one)."""
    ctx = context()
    ctx.migrate()
    try:
        definition = parse_definition_json(file.read_bytes())
        with ctx.sessions() as session, session.begin():
            experiment = service.create_experiment(
                session=session, definition=definition, actor=CLI_ACTOR
            )
            key = experiment.key
    except TillitError as error:
        raise _problem(error) from error
    console.print(f"Drafted experiment [bold]{key}[/]; start it with `tillit experiments start`.")


@experiments_app.command("start")
def start(key: Annotated[str, typer.Argument(help="The experiment's key.")]) -> None:
    """Start a draft: variants are served and exposures logged from now on."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            service.start_experiment(session=session, key=key, actor=CLI_ACTOR)
    except TillitError as error:
        raise _problem(error) from error
    console.print(f"Started {key}.")


@experiments_app.command("stop")
def stop(
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    reason: Annotated[str, typer.Option(help="Why it stops, for the record.")],
) -> None:
    """Stop a running experiment; its exposures stay for the analysis."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            service.stop_experiment(session=session, key=key, reason=reason, actor=CLI_ACTOR)
    except TillitError as error:
        raise _problem(error) from error
    console.print(f"Stopped {key}.")


@experiments_app.command("assign")
def assign(
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    customer_id: Annotated[int, typer.Argument(help="The customer to serve.")],
) -> None:
    """Serve a customer their variant (logging the exposure, once) and print it."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            served = assignment.assign(session=session, key=key, customer_id=customer_id, via="api")
    except TillitError as error:
        raise _problem(error) from error
    if served.variant is None or served.exposed_at is None:
        console.print(
            f"customer {served.customer_id}: outside the audience segment, not assigned",
            highlight=False,
        )
        return
    console.print(
        f"customer {served.customer_id}: {served.variant} "
        f"({'first exposure' if served.first else 'exposed before'}, {served.exposed_at:%Y-%m-%d})",
        highlight=False,
    )


class Format(StrEnum):
    table = "table"
    json = "json"


class Method(StrEnum):
    fixed = "fixed"
    sequential = "sequential"


def _weights(raw: str | None) -> dict[str, float] | None:
    if raw is None:
        return None
    found = {}
    for part in raw.split(","):
        name, _, weight = part.partition("=")
        try:
            found[name.strip()] = float(weight)
        except ValueError as error:
            raise fail(f"--weights: {part!r} is not NAME=WEIGHT") from error
    return found


@experiments_app.command("analyse")
def analyse(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV with columns unit, variant, value and optionally pre.",
        ),
    ],
    method: Annotated[Method, typer.Option(help="fixed horizon, or always valid")] = Method.fixed,
    format_: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
    weights: Annotated[
        str | None, typer.Option(help="The planned split, e.g. control=1,b=1 (default: equal)")
    ] = None,
) -> None:
    """Analyse an experiment run elsewhere: each variant against the one named 'control'."""
    try:
        result = offline.analyse_units(
            offline.read_units(file), method=method.value, weights=_weights(weights)
        )
    except TillitError as error:
        raise _problem(error) from error
    if format_ == Format.json:
        document = {
            "method": result.method,
            "control": result.control,
            "variants": result.variants,
            "srm_p_value": result.split.p_value,
            "sample_ratio_mismatch": result.split.mismatch,
        }
        console.print_json(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode())
        return
    table = Table("variant", "n", "mean", "difference", "95% interval", "p-value", "method")
    table.add_row("control", str(result.control["n"]), f"{result.control['mean']:.4g}")
    for name, found in result.variants.items():
        rows: list[tuple[dict[str, Any], str]] = [(found, result.method)]
        if "cuped" in found:
            rows.append((found["cuped"], f"{result.method}, CUPED"))
        for row, how in rows:
            table.add_row(
                name,
                str(row["n"]),
                f"{row['mean']:.4g}",
                f"{row['difference']:+.4g}",
                f"{row['ci_low']:+.4g} to {row['ci_high']:+.4g}",
                f"{row['p_value']:.3g}",
                how,
            )
    console.print(table)
    verdict = "MISMATCH: check the assignment" if result.split.mismatch else "fine"
    console.print(f"Sample ratio: p = {result.split.p_value:.3g} ({verdict})", highlight=False)


@experiments_app.command("size")
def size(
    sd: Annotated[
        float | None, typer.Option(help="The metric's standard deviation (means)")
    ] = None,
    baseline: Annotated[
        float | None, typer.Option(help="The control's conversion rate (proportions)")
    ] = None,
    effect: Annotated[
        float | None, typer.Option(help="The difference to detect; left out: print the MDE")
    ] = None,
    units: Annotated[int | None, typer.Option(help="Control units available (for the MDE)")] = None,
    power_: Annotated[float, typer.Option("--power", help="Chance of finding it")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level")] = 0.05,
) -> None:
    """Units needed to detect an effect, or the smallest effect these units can detect."""
    if (sd is None) == (baseline is None):
        raise fail("give either --sd (a mean) or --baseline (a conversion rate)")
    if (effect is None) == (units is None):
        raise fail("give either --effect (to size) or --units (for the MDE)")
    if any((v is not None and not math.isfinite(v)) or v == 0 for v in (sd, baseline, effect)):
        raise fail("--sd, --baseline and --effect must be finite numbers other than 0")
    if units is not None and units < 2:
        raise fail("--units must be at least 2")
    try:
        if effect is not None:
            n = (
                power.sample_size(effect=effect, sd=sd, power=power_, alpha=alpha)
                if sd is not None
                else power.proportion_sample_size(
                    baseline=baseline or 0.0, difference=effect, power=power_, alpha=alpha
                )
            )
            console.print(f"{n} units per variant ({2 * n} for control and one variant)")
        else:
            assert units is not None
            mde = (
                power.minimum_detectable_effect(sd=sd, n_control=units, power=power_, alpha=alpha)
                if sd is not None
                else power.proportion_minimum_detectable_effect(
                    baseline=baseline or 0.0, n_control=units, power=power_, alpha=alpha
                )
            )
            relative = f" ({mde / baseline:.1%} of the baseline)" if baseline else ""
            console.print(f"minimum detectable effect: {mde:.4g}{relative}", highlight=False)
    except ValueError as error:
        raise fail(str(error)) from error


class ResultsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@experiments_app.command("results")
def results_(
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    format_: Annotated[
        ResultsFormat, typer.Option("--format", help="table, json or csv")
    ] = ResultsFormat.table,
    engine: Annotated[
        str | None, typer.Option(help="duckdb or spark (default: TILLIT_ANALYTICS_ENGINE)")
    ] = None,
) -> None:
    """An experiment's results on the analytics layer (as of the last lake round): every
    metric per variant, the split check, the guardrails and the verdict in words."""
    ctx = context()
    ctx.migrate()
    settings = ctx.settings
    try:
        with ctx.sessions() as session:
            experiment = service.get_experiment(session=session, key=key)
            model = Model(connect(settings, engine), settings.data_dir)
            found = results.analyse(
                session=session, model=model, experiment=experiment, now=utcnow()
            )
    except TillitError as error:
        raise _problem(error) from error
    if format_ == ResultsFormat.csv:
        typer.echo(results.csv_text(found), nl=False)
        return
    if format_ == ResultsFormat.json:
        document = {
            "experiment": key,
            "units": found.units,
            "mixed": found.mixed,
            "srm_p_value": found.split.p_value,
            "sample_ratio_mismatch": found.split.mismatch,
            "verdict": found.verdict,
            "comparisons": results.flat_rows(found),
        }
        console.print_json(orjson.dumps(document).decode())
        return
    table = Table("metric", "variant", "difference", "always-valid 95% interval", "CUPED", "p adj.")
    for metric, row in results.comparisons_of(found):
        always, label = row.sequential, metric.metric.label
        if always is None:
            table.add_row(label, row.variant, "", "no data", "", "")
            continue
        cuped = row.cuped
        p = always.p_value if always.adjusted_p_value is None else always.adjusted_p_value
        table.add_row(
            label + (" (harm)" if row.harmed else ""),
            row.variant,
            results.amount(metric.metric, always.difference),
            f"{results.amount(metric.metric, always.ci_low)} to "
            f"{results.amount(metric.metric, always.ci_high)}",
            results.amount(metric.metric, cuped.difference) if cuped else "",
            f"{p:.3g}",
        )
    console.print(table)
    console.print(found.verdict, highlight=False)
