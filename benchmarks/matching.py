"""Probabilistic matching (Splink on DuckDB, EM-trained without labels) on generated people.

A store system and a web shop see fictional people with names in all five languages (æøåäöü),
typos, lost diacritics, transposed phone digits, local vs international phone numbers and
missing fields; half the store's people are also in the web shop, which has as many people of
its own. Prints precision and recall of the pairs at the auto-merge threshold (and at 0.9), the
wall time and the peak resident memory of the process (ru_maxrss), with DuckDB held to the
same memory limit as ``tillit match run`` (beyond it, it spills to a temporary directory).
The baseline is exact matching on (first name, last name, birth date), on the same records.

Run:  python benchmarks/matching.py            (100,000 records)
      python benchmarks/matching.py --full     (1,000,000 records)
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from tillit.identity.matching import Pair, link, precision_recall

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/identity/synthetic.py
from tests.identity.synthetic import two_systems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="1,000,000 records")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--threshold", type=float, default=0.99)
    parser.add_argument(
        "--memory-limit", default="3GB", help="DuckDB's, as TILLIT_MATCH_MEMORY_LIMIT"
    )
    arguments = parser.parse_args()
    records = arguments.records or (1_000_000 if arguments.full else 100_000)
    store, web = two_systems(records // 2)
    by_person = {s.person: s.record_id for s in store}
    truth = {(by_person[w.person], w.record_id) for w in web if w.person in by_person}
    left, right = [r.as_dict() for r in store], [r.as_dict() for r in web]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as spill:
        pairs = link(
            left,
            right,
            threshold=0.9,
            memory_limit=arguments.memory_limit,
            spill_directory=Path(spill),
        )
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    at_threshold = [p for p in pairs if p.probability >= arguments.threshold]

    keys = {(r.first_name, r.last_name, r.birth_date): r.record_id for r in store}
    exact = [
        Pair(keys[k], r.record_id, 1.0)
        for r in web
        if (k := (r.first_name, r.last_name, r.birth_date)) in keys and None not in k
    ]
    print(f"{len(store) + len(web):,} records ({len(store):,} store, {len(web):,} web)")
    print(f"{len(truth):,} true pairs")
    for label, found in (
        (f"splink, p >= {arguments.threshold}", at_threshold),
        ("splink, p >= 0.9", pairs),
        ("baseline: exact name + birth date", exact),
    ):
        precision, recall = precision_recall(found, truth)
        print(f"{label:<36} precision {precision:.4f}  recall {recall:.4f}  ({len(found):,} pairs)")
    print(f"splink wall time (train + predict)   {seconds:8.1f} s")
    print(f"peak resident memory                 {peak_mib:8.0f} MiB")
    print(f"DuckDB memory limit                  {arguments.memory_limit:>8}")


if __name__ == "__main__":
    main()
