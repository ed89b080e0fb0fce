"""Probabilistic matching of people that share no key (Splink on DuckDB, trained without labels).

Two systems' records (say the store's tills and the web shop) with first and last name, birth
date, postcode and phone are compared pairwise within blocks (same postcode, same birth date,
same phone, or same first three letters of the last name plus birth year). Splink's
Fellegi-Sunter model estimates the chance two random records match, u from random pairs and m by
expectation maximisation on the data itself, then scores each candidate pair with a match
probability. Pairs above a threshold become MatchSuggestion rows for staff review.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    from splink import SettingsCreator

FIELDS = ("first_name", "last_name", "birth_date", "postcode", "phone")


@dataclass(frozen=True)
class Pair:
    left_id: str
    right_id: str
    probability: float


def _settings() -> SettingsCreator:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("postcode"),
            # Transposed digits are one Damerau-Levenshtein edit.
            cl.DamerauLevenshteinAtThresholds("phone", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("postcode"),
            block_on("birth_date"),
            block_on("phone"),
            block_on("substr(last_name, 1, 3)", "substr(birth_date, 1, 4)"),
        ],
        retain_matching_columns=False,
    )


def link(
    left: Sequence[dict[str, str | None]],
    right: Sequence[dict[str, str | None]],
    *,
    threshold: float = 0.5,
    seed: int = 7,
    memory_limit: str = "3GB",
    spill_directory: Path | None = None,
) -> list[Pair]:
    """Pairs (left unique_id, right unique_id) with match probability >= threshold.

    DuckDB would otherwise take up to 80% of the machine's memory (14 GiB for 1,000,000
    records); held to ``memory_limit`` it spills joins and sorts to ``spill_directory``.
    """
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    logging.getLogger("splink").setLevel(logging.WARNING)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
    }
    if spill_directory is not None:
        spill_directory.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(spill_directory)
    connection = duckdb.connect(config=config)
    api = DuckDBAPI(connection=connection)
    tables = [
        api.register(_arrow(rows), table_name=name)
        for name, rows in (("left_records", left), ("right_records", right))
    ]
    linker = Linker(tables, _settings(), log_level=logging.WARNING)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "birth_date")], recall=0.8
    )
    training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    # EM on two disjoint blockings, so each comparison is trained where it is not blocked on.
    training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    rows = predictions.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability")
    left_ids = {str(r["unique_id"]) for r in left}
    pairs = []
    for a, b, probability in rows.fetchall():
        a, b = str(a), str(b)
        if a not in left_ids:  # link_only pairs may come in either order
            a, b = b, a
        pairs.append(Pair(a, b, float(probability)))
    connection.close()
    return _best_per_record(pairs)


def _best_per_record(pairs: list[Pair]) -> list[Pair]:
    """One person is one record per system: keep each record's most probable partner."""
    pairs = sorted(pairs, key=lambda p: -p.probability)
    taken_left: set[str] = set()
    taken_right: set[str] = set()
    kept = []
    for pair in pairs:
        if pair.left_id in taken_left or pair.right_id in taken_right:
            continue
        taken_left.add(pair.left_id)
        taken_right.add(pair.right_id)
        kept.append(pair)
    return kept


def _arrow(rows: Sequence[dict[str, str | None]]) -> pa.Table:
    columns = ("unique_id", *FIELDS)
    return pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in columns})


def precision_recall(pairs: Sequence[Pair], truth: set[tuple[str, str]]) -> tuple[float, float]:
    found = {(p.left_id, p.right_id) for p in pairs}
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0, hits / len(truth) if truth else 1.0)
