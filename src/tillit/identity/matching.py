"""Probabilistic matching of people that share no key (Splink, trained without labels).

Records (normalised values of the chosen fields, see ``comparisons``) are compared pairwise
within blocks derived from the fields: both names, both names swapped, and each of birth date,
postcode, phone, e-mail and ID number. Splink's Fellegi-Sunter model estimates the chance two
random records match from near-certain rules, u from random pairs and m by expectation
maximisation on the data itself (two blockings, so that every comparison is trained where it
is not blocked on), then scores each candidate pair with a match probability and, per field,
the level it reached and its match weight (log2 of its Bayes factor).

One group of records is deduplicated; two or more groups are linked (pairs across groups only).
The engine is DuckDB (held to a memory limit, spilling beyond it) or a Spark session.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from tillit.identity.comparisons import BUILT_IN, MatchField

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from splink import SettingsCreator
    from splink.internals.blocking_rule_creator import BlockingRuleCreator
    from splink.internals.comparison_creator import ComparisonCreator

Record = dict[str, str | None]
# The fields of ``synthetic.two_systems`` records and of ``link``.
FIELDS = ("first_name", "last_name", "birth_date", "postcode", "phone")
# Blocking on these is selective enough (few records share one value).
_BLOCKING_KINDS = ("date", "id", "email", "phone", "postcode")


@dataclass(frozen=True)
class Evidence:
    level: str  # Splink's words for the level the pair reached, e.g. "Exact match on surname"
    verdict: str  # agree | close | differ | missing
    weight: float  # match weight, log2 of the Bayes factor: > 0 speaks for a match, < 0 against


@dataclass(frozen=True)
class Pair:
    left_id: str
    right_id: str
    probability: float
    evidence: dict[str, Evidence] = field(default_factory=dict, compare=False)


@dataclass
class Outcome:
    pairs: list[Pair]
    warnings: list[str]  # Splink's warnings, summarised


def comparison(match_field: MatchField) -> ComparisonCreator:
    import splink.comparison_library as cl

    name, kind = match_field.name, match_field.kind
    if kind == "name":
        return cl.NameComparison(name).configure(term_frequency_adjustments=True)
    if kind == "date":
        # ISO dates; the format is left to Splink, which writes it as each engine reads it.
        return cl.DateOfBirthComparison(name, input_is_string=True)
    if kind == "text":
        return cl.JaroWinklerAtThresholds(name, [0.9, 0.7])
    if kind == "postcode":
        return cl.DamerauLevenshteinAtThresholds(name, [1]).configure(
            term_frequency_adjustments=True
        )
    if kind == "email":
        return cl.EmailComparison(name)
    # phone, id: transposed digits are one Damerau-Levenshtein edit.
    return cl.DamerauLevenshteinAtThresholds(name, [1, 2])


def blocking_rules(fields: Sequence[MatchField]) -> list[BlockingRuleCreator | dict[str, Any]]:
    """Both names (and swapped: 'Lund Ida' is 'Ida Lund'), then each selective field."""
    from splink import block_on

    names = [f.name for f in fields if f.kind == "name"]
    rules: list[BlockingRuleCreator | dict[str, Any]] = []
    if len(names) >= 2:
        first, last = names[:2]
        rules += [block_on(first, last), _swapped(first, last)]
    elif names:
        rules.append(block_on(names[0]))
    rules += [block_on(f.name) for f in fields if f.kind in _BLOCKING_KINDS]
    if not rules:  # text fields only: their first three letters
        rules.append(block_on(f"substr({fields[0].name}, 1, 3)"))
    return rules


def _swapped(first: str, last: str) -> BlockingRuleCreator:
    from splink.blocking_rule_library import CustomRule

    return CustomRule(f"l.{first} = r.{last} and l.{last} = r.{first}")


def settings(fields: Sequence[MatchField], *, link: bool) -> SettingsCreator:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        comparisons=[comparison(f) for f in fields],
        blocking_rules_to_generate_predictions=blocking_rules(fields),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def _training_rules(
    fields: Sequence[MatchField],
) -> tuple[list[str | BlockingRuleCreator], list[BlockingRuleCreator]]:
    """Near-certain rules (for the prior), and the EM blockings: names, then a selective
    field that is not a name, so each comparison is trained in one of them."""
    from splink import block_on

    names = [f.name for f in fields if f.kind == "name"][:2]
    selective = [f.name for f in fields if f.kind in _BLOCKING_KINDS]
    certain: list[str | BlockingRuleCreator] = (
        [block_on(*names, selective[0])] if names and selective else []
    )
    certain += [block_on(f.name) for f in fields if f.kind in ("id", "email")]
    em: list[BlockingRuleCreator] = [block_on(*names)] if names else []
    if selective:
        em.append(block_on(selective[0]))
    if len(em) < 2 and len(selective) > 1:
        em.append(block_on(selective[1]))
    fallback = block_on(fields[0].name)
    return certain or [fallback], em or [fallback]


def find_pairs(
    groups: Sequence[Sequence[Record]],
    fields: Sequence[MatchField],
    *,
    threshold: float = 0.5,
    seed: int = 7,
    memory_limit: str = "3GB",
    spill_directory: Path | None = None,
    spark: SparkSession | None = None,
) -> Outcome:
    """Pairs with match probability >= threshold: within the one group, or across groups.

    DuckDB would otherwise take up to 80% of the machine's memory (14 GiB for 1,000,000
    records); held to ``memory_limit`` it spills joins and sorts to ``spill_directory``.
    With ``spark`` the same model runs on that Spark session instead.
    """
    from splink import Linker
    from splink.internals.exceptions import EMTrainingException

    groups = [g for g in groups if g]
    link = len(groups) > 1
    if not groups or (not link and len(groups[0]) < 2):
        return Outcome([], [])
    with _warnings_summarised() as warnings:
        api, close = _backend(memory_limit, spill_directory, spark)
        try:
            tables = [
                _register(api, group, fields, f"records_{index}", spark)
                for index, group in enumerate(groups)
            ]
            linker = Linker(tables, settings(fields, link=link), log_level=None)
            certain, em = _training_rules(fields)
            training = linker.training
            steps: list[Callable[[], object]] = [
                lambda: training.estimate_probability_two_random_records_match(certain, recall=0.8),
                lambda: training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed),
                *(
                    partial(training.estimate_parameters_using_expectation_maximisation, rule)
                    for rule in em
                ),
            ]
            for step in steps:
                try:
                    step()
                except EMTrainingException as error:  # too few pairs to train on: defaults stay
                    warnings.append(str(error).split("\n")[0])
            model = linker._settings_obj
            if not 0 < model._probability_two_random_records_match < 1:
                # No near-certain pair at all (few records): Splink's own starting value.
                model._probability_two_random_records_match = 0.0001
                warnings.append("too few certain pairs to estimate how many records match")
            predictions = linker.inference.predict(threshold_match_probability=threshold)
            pairs = _pairs(predictions, linker, fields, spark)
        finally:
            close()
    return Outcome(pairs, summarise(warnings))


def _backend(
    memory_limit: str, spill_directory: Path | None, spark: SparkSession | None
) -> tuple[Any, Any]:
    if spark is not None:
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=spark), lambda: None
    from splink.backends.duckdb import DuckDBAPI

    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
    }
    if spill_directory is not None:
        spill_directory.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(spill_directory)
    connection = duckdb.connect(config=config)
    return DuckDBAPI(connection=connection), connection.close


def _register(
    api: Any,
    records: Sequence[Record],
    fields: Sequence[MatchField],
    name: str,
    spark: SparkSession | None,
) -> Any:
    columns = ("unique_id", *(f.name for f in fields))
    table = pa.table({c: pa.array([r.get(c) for r in records], type=pa.string()) for c in columns})
    if spark is not None:
        return api.register(spark.createDataFrame(table.to_pandas()), table_name=name)
    return api.register(table, table_name=name)


def _pairs(
    predictions: Any, linker: Any, fields: Sequence[MatchField], spark: SparkSession | None
) -> list[Pair]:
    levels = {
        c.output_column_name: {
            level.comparison_vector_value: level.label_for_charts for level in c.comparison_levels
        }
        for c in linker._settings_obj.comparisons
    }
    table = predictions.as_duckdbpyrelation() if spark is None else predictions.as_spark_dataframe()
    available = set(table.columns)
    # Splink leaves out a comparison's columns when its model cannot tell its levels apart.
    names = [f.name for f in fields if {f"gamma_{f.name}", f"mw_{f.name}"} <= available]
    columns = ["unique_id_l", "unique_id_r", "match_probability"]
    for name in names:
        # Term-frequency fields add an adjustment for how common the shared value is.
        adjustment = f"mw_tf_adj_{name}" if f"mw_tf_adj_{name}" in available else "0.0"
        columns += [f"gamma_{name}", f"mw_{name} + coalesce({adjustment}, 0.0)"]
    if spark is None:
        rows = table.select(", ".join(columns)).fetchall()
    else:
        rows = [tuple(row) for row in table.selectExpr(*columns).toLocalIterator()]
    # Per field, one Evidence per (level, weight) met: most pairs share them (a weight varies
    # only with term frequencies), so a run of thousands of pairs makes few objects.
    known: list[dict[tuple[int, float], Evidence]] = [{} for _ in names]
    pairs = []
    for row in rows:
        evidence = {}
        for i, name in enumerate(names):
            key = (int(row[3 + 2 * i]), round(float(row[4 + 2 * i] or 0.0), 2))
            found = known[i].get(key)
            if found is None:
                found = known[i][key] = _evidence(levels[name], *key)
            evidence[name] = found
        pairs.append(Pair(str(row[0]), str(row[1]), float(row[2]), evidence))
    return pairs


def _evidence(levels: dict[int, str], gamma: int, weight: float | None) -> Evidence:
    top = max(levels)
    verdict = (
        "missing" if gamma < 0 else "agree" if gamma == top else "differ" if gamma == 0 else "close"
    )
    return Evidence(levels.get(gamma, ""), verdict, round(float(weight or 0.0), 2))


_UNTRAINED = re.compile(
    r"Level (?P<level>.+?) on comparison (?P<comparison>\S+) not observed in dataset, "
    r"unable to train (?P<which>[mu]) value"
)


@contextmanager
def _warnings_summarised() -> Iterator[list[str]]:
    """Splink's warnings are caught here (not printed) and summarised for the report."""

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    splink_log = logging.getLogger("splink")
    handler = Collect(logging.WARNING)
    saved = splink_log.propagate, splink_log.level, list(splink_log.handlers)
    for other in saved[2]:  # e.g. the printing handler an earlier Linker installed
        splink_log.removeHandler(other)
    splink_log.addHandler(handler)
    splink_log.propagate = False
    splink_log.setLevel(logging.WARNING)
    try:
        yield messages
    finally:
        splink_log.removeHandler(handler)
        splink_log.propagate, splink_log.level = saved[0], saved[1]
        for other in saved[2]:
            splink_log.addHandler(other)


def summarise(messages: Sequence[str]) -> list[str]:
    """'first_name: 2 of its levels were never seen in training; their defaults were used'
    instead of one long warning per level, and the untrained-parameter notice once."""
    untrained: dict[str, set[str]] = {}
    other: list[str] = []
    for message in messages:
        found = _UNTRAINED.search(message)
        if found:
            untrained.setdefault(found["comparison"], set()).add(found["level"])
        elif "parameter estimates which have neither been estimated" in message:
            continue  # the same levels again, as one notice
        else:
            line = " ".join(message.replace("WARNING:", "").replace("-- WARNING --", "").split())
            if line and line[:160] not in other:
                other.append(line[:160])
    summary = [
        f"{name}: {len(found)} of its levels never occurred in training; "
        "Splink's defaults were used for them"
        for name, found in sorted(untrained.items())
    ]
    return summary + other


def link(
    left: Sequence[Record],
    right: Sequence[Record],
    *,
    threshold: float = 0.5,
    seed: int = 7,
    memory_limit: str = "3GB",
    spill_directory: Path | None = None,
) -> list[Pair]:
    """Two systems' records with the fields of ``FIELDS``, linked (used on generated data)."""
    outcome = find_pairs(
        [left, right],
        [BUILT_IN[name] for name in FIELDS],
        threshold=threshold,
        seed=seed,
        memory_limit=memory_limit,
        spill_directory=spill_directory,
    )
    left_ids = {str(r["unique_id"]) for r in left}
    return [
        pair if pair.left_id in left_ids else Pair(pair.right_id, pair.left_id, pair.probability)
        for pair in outcome.pairs
    ]


def precision_recall(pairs: Sequence[Pair], truth: set[tuple[str, str]]) -> tuple[float, float]:
    found = {(p.left_id, p.right_id) for p in pairs}
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0, hits / len(truth) if truth else 1.0)
