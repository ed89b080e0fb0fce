"""Train the shipped sentiment head (``src/tillit/insight/data/sentiment-head-e5-hutto2014.npz``).

A ``SentimentCalibrator`` (3 classes) over the e5 embedding + the lexicon's features,
trained only on the *training* split of Hutto & Gilbert's snippets (see ``insight_data``;
MIT, so a model trained on them may ship): half of the Amazon snippets, every movie snippet
outside the 1,000 held out for testing, all tweets and all NYT editorial snippets. The test
splits used by ``insight_quality.py`` (other Amazon half, movie snippets 1500-2499, Pang &
Lee sentences, bol.com test half) are never read here.

Choices are made on a hold-out inside that training split (20 % of the Amazon and movie
training rows; the mean of their 3-class macro-F1): which training sets to use, logistic
regression or a one-hidden-layer network (an average of 5 networks from seeds 0-4, stored
as one wider layer), its width and the L2 strength. The final head is then refitted on the
chosen sets' whole training split.

The fits are scikit-learn's (``SentimentCalibrator``: ``LogisticRegression``, and
``MLPClassifier`` with Adam for the network). The shipped head was trained before that, by
the hand-written Adam loop it replaced (same loss, L2, batch, step and passes; a different
weight initialisation), so ``--write`` now gives a different head: measure it with
``insight_quality.py`` before shipping it. Its inference code is unchanged.

Run:  PYTHONPATH=src python benchmarks/train_sentiment_head.py [--write]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

import numpy as np
from insight_data import cached_embeddings, hutto_snippets
from insight_quality import LABELS, macro_f1, split_hutto, three_class

from tillit.insight.embeddings import E5Embedder
from tillit.insight.sentiment import (
    SENTIMENT_HEAD_FILE,
    SentimentCalibrator,
    sentiment_features,
)

HEAD_PATH = Path(__file__).parents[1] / "src" / "tillit" / "insight" / "data" / SENTIMENT_HEAD_FILE
L2_GRID = (1e-2, 3e-2, 1e-1, 3e-1)
# The network candidates, on the largest training set (all four): hidden units per member
# x L2; 10 passes of Adam, 5 members.
ALL_SETS = "amazon + all movie + tweets + nyt"
HIDDEN_GRID = (64, 128, 256)
HIDDEN_L2_GRID = (1e-3, 1e-2)
MEMBERS = 5
EPOCHS = 10


def network(hidden: int, l2: float) -> SentimentCalibrator:
    return SentimentCalibrator(l2=l2, hidden=hidden, members=MEMBERS, epochs=EPOCHS, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write the chosen head to src/")
    arguments = parser.parse_args()
    embedder = E5Embedder(cache_size=0)
    data = hutto_snippets()
    vectors = {key: cached_embeddings(embedder, [t for _, t in rows]) for key, rows in data.items()}
    train, _ = split_hutto(data)

    def features(key: str, rows: list[int]) -> np.ndarray:
        texts = [data[key][i][1] for i in rows]
        return sentiment_features(vectors[key][rows], texts, ["en"] * len(texts))

    def labels(key: str, rows: list[int]) -> list[str]:
        return [three_class(data[key][i][0]) for i in rows]

    shuffler = random.Random(1)
    fit: dict[str, list[int]] = {}
    check: dict[str, list[int]] = {}
    for key in ("amazon", "movie"):
        rows = train[key][:]
        shuffler.shuffle(rows)
        cut = int(0.8 * len(rows))
        fit[key], check[key] = rows[:cut], rows[cut:]
    for key in ("tweets", "nyt"):
        fit[key], check[key] = train[key], []

    mixes: dict[str, dict[str, int | None]] = {
        "amazon only": {"amazon": None},
        "amazon + 1,200 movie (the old training set)": {"amazon": None, "movie": 1200},
        "amazon + all movie": {"amazon": None, "movie": None},
        "amazon + tweets": {"amazon": None, "tweets": None},
        ALL_SETS: {
            "amazon": None,
            "movie": None,
            "tweets": None,
            "nyt": None,
        },
    }
    candidates = [(mix_name, "logistic", 0, l2) for mix_name in mixes for l2 in L2_GRID]
    candidates += [
        (ALL_SETS, f"network {MEMBERS}x{hidden}", hidden, l2)
        for hidden in HIDDEN_GRID
        for l2 in HIDDEN_L2_GRID
    ]

    def model(hidden: int, l2: float) -> SentimentCalibrator:
        return network(hidden, l2) if hidden else SentimentCalibrator(l2=l2)

    scores: dict[tuple[str, str, int, float], float] = {}
    for candidate in candidates:
        mix_name, kind, hidden, l2 = candidate
        mix = mixes[mix_name]
        x = np.vstack([features(k, fit[k][: mix[k]]) for k in mix])
        y = [label for k in mix for label in labels(k, fit[k][: mix[k]])]
        head = model(hidden, l2).fit(x, y)
        f1s = []
        for key in ("amazon", "movie"):
            best = head.predict_proba(features(key, check[key])).argmax(axis=1)
            predicted = [head.classes[int(i)] for i in best]
            f1s.append(macro_f1(labels(key, check[key]), predicted, LABELS))
        scores[candidate] = sum(f1s) / 2
        print(
            f"{mix_name:<44} {kind:<14} l2={l2:<6g} hold-out 3-class macro-F1:"
            f" amazon {f1s[0]:.3f}, movie {f1s[1]:.3f}, mean {scores[candidate]:.3f}",
            flush=True,
        )
    mix_name, kind, hidden, l2 = max(candidates, key=lambda c: scores[c])
    print(f"\nchosen: {mix_name}, {kind}, l2={l2:g} (best mean of the two hold-outs)")
    mix = mixes[mix_name]
    x = np.vstack([features(k, train[k][: mix[k]]) for k in mix])
    y = [label for k in mix for label in labels(k, train[k][: mix[k]])]
    head = model(hidden, l2).fit(x, y)
    print(f"fitted on {len(y)} training snippets: {dict(Counter(y))}")
    if arguments.write:
        HEAD_PATH.write_bytes(head.to_bytes())
        print(f"wrote {HEAD_PATH} ({HEAD_PATH.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
