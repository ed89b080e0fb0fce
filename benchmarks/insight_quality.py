"""Quality of tillit.insight on labelled data that nobody on the Tillit team wrote.

Sentiment (English): the human-rated snippets of Hutto & Gilbert (ICWSM 2014) that ship
inside the PyPI source distribution of ``vaderSentiment==3.3.2`` (MIT), file
``additional_resources/hutto_ICWSM_2014.tar.gz``: Amazon review snippets (3,708) and
movie review snippets (10,605), each the mean of ~20 ratings on -4..+4.

* binary: sign of the mean rating, snippets with |rating| ≥ 0.5 only;
* 3 classes: negative < -0.5 ≤ neutral ≤ 0.5 < positive.

Two systems: the lexicon scorer (no training at all), and the calibrator fitted on a
training split (half of the Amazon snippets + 1,500 movie snippets, fixed seed), its L2
strength chosen on a hold-out inside that training split. The test splits are never used
to fit or choose anything.

No labelled Danish, Swedish, Bokmål or Dutch sentiment data was found inside a PyPI
package; those rows say so. Themes are scored on Tillit's own fictional demo feedback
(written by the team, so an optimistic check, not an independent benchmark).

Run:  PYTHONPATH=src python benchmarks/insight_quality.py
(downloads the vaderSentiment sdist once with pip into ~/.cache/tillit-bench).
"""

from __future__ import annotations

import io
import math
import random
import subprocess
import sys
import tarfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tillit.insight import (
    SentimentCalibrator,
    ThemeComment,
    ThemeSpace,
    discover_themes,
    score_sentiment,
)
from tillit.insight.demo_feedback import demo_feedback
from tillit.insight.embeddings import E5Embedder
from tillit.insight.sentiment import lexicon_score, sentiment_features

CACHE = Path.home() / ".cache" / "tillit-bench"
LABELS = ("negative", "neutral", "positive")


def vader_snippets() -> dict[str, list[tuple[float, str]]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / "vaderSentiment-3.3.2.tar.gz"
    if not sdist.exists():
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
                "vaderSentiment==3.3.2",
            ],
            check=True,
            capture_output=True,
        )
    wanted = {
        "amazon": "amazonReviewSnippets_GroundTruth.txt",
        "movie": "movieReviewSnippets_GroundTruth.txt",
    }
    found: dict[str, list[tuple[float, str]]] = {}
    with tarfile.open(sdist) as outer:
        inner_member = next(
            m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz")
        )
        inner_bytes = outer.extractfile(inner_member).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        for key, name in wanted.items():
            member = next(m for m in inner.getmembers() if m.name.endswith(name))
            text = inner.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
            rows = [line.split("\t") for line in text.splitlines() if line.strip()]
            found[key] = [(float(r[1]), r[2].strip()) for r in rows if len(r) >= 3]
    return found


def three_class(rating: float) -> str:
    return "negative" if rating < -0.5 else "positive" if rating > 0.5 else "neutral"


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label != t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label != p for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def _comb2(n: int) -> float:
    return n * (n - 1) / 2


def adjusted_rand(truth: Sequence[str], predicted: Sequence[str]) -> float:
    pairs = sum(_comb2(v) for v in Counter(zip(truth, predicted, strict=True)).values())
    a = sum(_comb2(v) for v in Counter(truth).values())
    b = sum(_comb2(v) for v in Counter(predicted).values())
    expected = a * b / _comb2(len(truth))
    return (pairs - expected) / (0.5 * (a + b) - expected)


def v_measure(truth: Sequence[str], predicted: Sequence[str]) -> float:
    def entropy(labels: Sequence[str]) -> float:
        n = len(labels)
        return -sum(c / n * math.log(c / n) for c in Counter(labels).values())

    def conditional(a: Sequence[str], b: Sequence[str]) -> float:
        n = len(a)
        joint = Counter(zip(a, b, strict=True))
        by_b = Counter(b)
        return -sum(c / n * math.log(c / by_b[y]) for (_, y), c in joint.items())

    h_t, h_p = entropy(truth), entropy(predicted)
    homogeneity = 1 - conditional(truth, predicted) / h_t if h_t else 1.0
    completeness = 1 - conditional(predicted, truth) / h_p if h_p else 1.0
    return 2 * homogeneity * completeness / (homogeneity + completeness)


def choose_l2(features: np.ndarray, labels: list[str]) -> float:
    """Pick the L2 strength on a 20 % hold-out of the *training* split (never the tests)."""
    order = list(range(len(labels)))
    random.Random(1).shuffle(order)
    cut = int(0.8 * len(order))
    fit_rows, check_rows = order[:cut], order[cut:]
    scores = {}
    for l2 in (1e-3, 1e-2, 3e-2, 1e-1):
        calibrator = SentimentCalibrator(l2=l2).fit(
            features[fit_rows], [labels[i] for i in fit_rows]
        )
        best = np.argmax(calibrator.predict_proba(features[check_rows]), axis=1)
        predicted = [calibrator.classes[int(i)] for i in best]
        scores[l2] = macro_f1([labels[i] for i in check_rows], predicted, LABELS)
    print(
        "L2 on the training hold-out (3-class macro-F1):",
        ", ".join(f"{l2:g}: {f1:.3f}" for l2, f1 in scores.items()),
    )
    return max(scores, key=lambda l2: scores[l2])


def sentiment_rows(embedder: E5Embedder) -> list[tuple[str, ...]]:
    data = vader_snippets()
    rng = random.Random(2014)
    amazon, movie = data["amazon"][:], data["movie"][:]
    rng.shuffle(amazon)
    rng.shuffle(movie)
    half = len(amazon) // 2
    train = amazon[:half] + movie[:1500]
    tests = {
        "Amazon snippets (test half)": amazon[half:],
        "movie snippets (held out)": movie[1500:2500],
    }

    def features(rows: list[tuple[float, str]]) -> np.ndarray:
        texts = [text for _, text in rows]
        return sentiment_features(embedder.embed(texts), texts, ["en"] * len(texts))

    train_features = features(train)
    train_labels = [three_class(r) for r, _ in train]
    l2 = choose_l2(train_features, train_labels)
    calibrator = SentimentCalibrator(l2=l2).fit(train_features, train_labels)
    table = []
    for name, rows in tests.items():
        texts = [text for _, text in rows]
        truth3 = [three_class(r) for r, _ in rows]
        lexical = [score_sentiment(text, language="en") for text in texts]
        probabilities = calibrator.predict_proba(features(rows))
        calibrated3 = [calibrator.classes[int(i)] for i in np.argmax(probabilities, axis=1)]
        index = {label: calibrator.classes.index(label) for label in ("negative", "positive")}
        binary_rows = [i for i, (r, _) in enumerate(rows) if abs(r) >= 0.5]
        truth2 = ["positive" if rows[i][0] > 0 else "negative" for i in binary_rows]
        lexical2 = [
            "positive" if lexicon_score(texts[i], "en")[0] >= 0 else "negative" for i in binary_rows
        ]
        calibrated2 = [
            "positive"
            if probabilities[i, index["positive"]] >= probabilities[i, index["negative"]]
            else "negative"
            for i in binary_rows
        ]
        for system, pred2, pred3 in (
            ("lexicon", lexical2, [r.label for r in lexical]),
            ("lexicon+e5 calibrated", calibrated2, calibrated3),
        ):
            table.append(
                (
                    "en",
                    name,
                    system,
                    f"{len(binary_rows)}",
                    f"{accuracy(truth2, pred2):.3f}",
                    f"{macro_f1(truth2, pred2, ('negative', 'positive')):.3f}",
                    f"{len(rows)}",
                    f"{accuracy(truth3, pred3):.3f}",
                    f"{macro_f1(truth3, pred3, LABELS):.3f}",
                )
            )
    for language in ("da", "sv", "nb", "nl"):
        table.append(
            (
                language,
                "no labelled data found in a PyPI package",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
            )
        )
    return table


def theme_rows(embedder: E5Embedder) -> list[tuple[str, ...]]:
    demo = demo_feedback()
    comments = [ThemeComment(c.comment_id, c.text, c.language) for c in demo]
    vectors = embedder.embed([c.text for c in demo])
    languages = [c.language for c in demo]
    spaced = ThemeSpace.fit(vectors, languages).transform(vectors, languages)
    truth = [c.theme for c in demo]
    rows = []
    for k in (8, None):
        themes = discover_themes(comments, spaced, theme_count=k)
        theme_of = {member: t.theme_id for t in themes for member in t.member_ids}
        predicted = [theme_of[c.comment_id] for c in demo]
        rows.append(
            (
                f"k={k or 'auto'} ({len(themes)} themes)",
                f"{adjusted_rand(truth, predicted):.3f}",
                f"{v_measure(truth, predicted):.3f}",
            )
        )
    raw = discover_themes(comments, vectors, theme_count=8)
    theme_of = {member: t.theme_id for t in raw for member in t.member_ids}
    predicted = [theme_of[c.comment_id] for c in demo]
    rows.append(
        (
            "k=8 without language centring",
            f"{adjusted_rand(truth, predicted):.3f}",
            f"{v_measure(truth, predicted):.3f}",
        )
    )
    return rows


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    for row in (header, ["-" * w for w in widths], *rows):
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    embedder = E5Embedder()
    print("Sentiment (binary: |rating| >= 0.5; 3-class: neutral band [-0.5, 0.5])\n")
    print_table(
        (
            "lang",
            "test set",
            "system",
            "n bin",
            "acc bin",
            "F1 bin",
            "n 3cl",
            "acc 3cl",
            "macro-F1 3cl",
        ),
        sentiment_rows(embedder),
    )
    print("\nThemes on Tillit's fictional demo feedback (480 comments, 8 themes, 5 languages)\n")
    print_table(("clustering", "ARI", "V-measure"), theme_rows(embedder))


if __name__ == "__main__":
    main()
