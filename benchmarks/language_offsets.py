"""Write ``src/tillit/insight/data/e5-language-offsets-demo.npz``: per language, the mean e5
vector of its demo comments minus the English mean (``sentiment.align_to_english``).

Tillit's demo feedback (``tillit.demo.feedback_comments``, written by the Tillit team, fictional,
Tillit's licence) says the same things in en, da, sv, nb and nl, so the difference of the
means is the language, not the content. No labels are read: NPS scores play no part.

Run:  PYTHONPATH=src python benchmarks/language_offsets.py [--write]
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tillit.demo.feedback_comments import demo_feedback
from tillit.insight.embeddings import E5Embedder
from tillit.insight.sentiment import LANGUAGE_OFFSETS_FILE

OFFSETS_PATH = (
    Path(__file__).parents[1] / "src" / "tillit" / "insight" / "data" / LANGUAGE_OFFSETS_FILE
)


def offsets_from(
    vectors: NDArray[np.float32], languages: Sequence[str]
) -> dict[str, NDArray[np.float32]]:
    codes = np.array(languages)
    english = vectors[codes == "en"].mean(axis=0)
    return {
        str(code): (vectors[codes == code].mean(axis=0) - english).astype(np.float32)
        for code in sorted(set(languages))
        if code != "en"
    }


def demo_offsets(embedder: E5Embedder) -> dict[str, NDArray[np.float32]]:
    distinct = list({c.text: c for c in demo_feedback()}.values())
    vectors = embedder.embed([c.text for c in distinct])
    return offsets_from(vectors, [c.language for c in distinct])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="overwrite the shipped offsets")
    args = parser.parse_args()
    offsets = demo_offsets(E5Embedder())
    for code, offset in offsets.items():
        print(f"{code}: |offset| = {np.linalg.norm(offset):.3f}")
    if args.write:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **offsets)  # type: ignore[arg-type]
        OFFSETS_PATH.write_bytes(buffer.getvalue())
        print(f"wrote {OFFSETS_PATH}")


if __name__ == "__main__":
    main()
