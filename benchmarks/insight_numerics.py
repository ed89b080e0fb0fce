"""The insight numerics: the library call against the hand-written code it replaced (or kept).

For each piece, the same inputs through both, timed in this run, with the ratio library /
hand-written time and a measure of whether they do the same job:

* scikit-learn's ``KMeans`` on the unit vectors (``themes.spherical_kmeans`` now) against
  the hand-written spherical k-means, on the language-centred e5 vectors of Tillit's
  fictional demo feedback (480 comments, 8 themes): time, adjusted Rand index against the
  demo's own themes, the cosine silhouette and the spherical objective, over seeds 0-9;
* the cosine silhouette (``themes.silhouette``, now scikit-learn's) against the old loop;
* the workspace calibrator's logistic regression (now scikit-learn's, lbfgs) against the old
  400 steps of gradient descent, on the demo's e5 + lexicon features with NPS weak labels:
  time, the training objective each reaches and how many labels agree; and scikit-learn
  with its default BLAS/OpenMP threads against the one thread Tillit gives it;
* the one-hidden-layer network (now scikit-learn's ``MLPClassifier``, Adam) against the old
  mini-batch Adam loop, on synthetic data (a nonlinear 3-class rule in 391 dimensions,
  the head's input width; no real labels, so nothing is tuned on held-out data): time and
  accuracy on a fresh synthetic test set;
* Holm (statsmodels, not taken: it collects garbage on every call) and Benjamini-Hochberg
  (SciPy, taken) p-values against the hand-written loops;
* the theme router (``ThemeRouter``, now scikit-learn's ``LogisticRegression``, lbfgs, on a
  sparse matrix) against the old 300 steps of gradient descent at rate 20 on the dense one,
  over a range of L2: trained on the e5 themes of demo sentences 0-2, scored on sentence 3
  (the split the old rate was chosen on; sentences 4-5 are the throughput benchmark's unseen
  text and are not used here): time, how many comments it routes at the default confidence
  and how many of those agree with e5.

The replaced hand-written versions live only here, copied from the code before the change;
Holm's is still ``experiments.statistics.holm_p_values``.

Run:  PYTHONPATH=src nice .venv/bin/python benchmarks/insight_numerics.py [--router-only]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from insight_data import cached_embeddings
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from tillit.demo.feedback_comments import demo_feedback
from tillit.experiments.statistics import bh_p_values, holm_p_values
from tillit.insight.embeddings import E5Embedder
from tillit.insight.router import DEFAULT_L2, ThemeRouter, hashed_features
from tillit.insight.sentiment import (
    SentimentCalibrator,
    _softmax,
    label_from_nps,
    sentiment_features,
)
from tillit.insight.themes import (
    ThemeComment,
    ThemeSpace,
    _normalise,
    assign_to_themes,
    discover_themes,
    silhouette,
    spherical_kmeans,
)

# ---- the hand-written versions, as they were ---------------------------------------------


def hand_spherical_kmeans(vectors: np.ndarray, k: int, *, seed: int = 0, restarts: int = 10):
    unit = _normalise(vectors)
    best = None
    for attempt in range(restarts):
        assignment = hand_kmeans_once(unit, k, seed=seed * 1000 + attempt)
        cohesion = sum(
            float(np.linalg.norm(unit[assignment == c].sum(axis=0))) for c in np.unique(assignment)
        )
        if best is None or cohesion > best[0]:
            best = (cohesion, assignment)
    assert best is not None
    return best[1]


def hand_kmeans_once(unit: np.ndarray, k: int, *, seed: int, iterations: int = 50):
    rng = np.random.default_rng(seed)
    centres = [unit[rng.integers(len(unit))]]
    for _ in range(1, k):
        distance = 1.0 - np.max(unit @ np.array(centres).T, axis=1)
        probabilities = np.maximum(distance, 0) ** 2
        total = probabilities.sum()
        pick = (
            rng.choice(len(unit), p=probabilities / total) if total > 0 else rng.integers(len(unit))
        )
        centres.append(unit[pick])
    centroids = np.array(centres)
    assignment = np.zeros(len(unit), dtype=np.int64)
    for _ in range(iterations):
        new_assignment = np.argmax(unit @ centroids.T, axis=1)
        if _ and np.array_equal(new_assignment, assignment):
            break
        assignment = new_assignment
        for cluster in range(k):
            members = unit[assignment == cluster]
            if len(members):
                centroids[cluster] = _normalise(members.mean(axis=0))
    return assignment


def hand_silhouette(vectors: np.ndarray, assignment: np.ndarray) -> float:
    unit = _normalise(vectors)
    distance = 1.0 - unit @ unit.T
    clusters = np.unique(assignment)
    if len(clusters) < 2:
        return -1.0
    scores = []
    for index in range(len(unit)):
        own = assignment == assignment[index]
        if own.sum() <= 1:
            scores.append(0.0)
            continue
        within = distance[index, own].sum() / (own.sum() - 1)
        nearest_other = min(
            distance[index, assignment == c].mean() for c in clusters if c != assignment[index]
        )
        scores.append((nearest_other - within) / max(within, nearest_other))
    return float(np.mean(scores))


def hand_logistic(design, target, sample_weight, l2=1e-2, iterations=400, rate=0.5):
    weights = np.zeros((design.shape[1], target.shape[1]))
    for _ in range(iterations):
        gradient = design.T @ ((_softmax(design @ weights) - target) * sample_weight)
        gradient /= len(target)
        gradient[:-1] += l2 * weights[:-1]
        weights -= rate * gradient
    return weights


def hand_router(features, labels, l2=1e-4, iterations=300, rate=20.0):
    """The old ``ThemeRouter.train`` on the dense features: (classes, weights), bias last."""
    classes = sorted(set(labels))
    design = np.hstack([features, np.ones((len(features), 1), dtype=np.float32)])
    target = np.zeros((len(labels), len(classes)), dtype=np.float32)
    target[np.arange(len(labels)), [classes.index(label) for label in labels]] = 1.0
    weights = np.zeros((design.shape[1], len(classes)), dtype=np.float32)
    for _ in range(iterations):
        gradient = design.T @ (_softmax(design @ weights) - target) / len(labels)
        gradient[:-1] += l2 * weights[:-1]
        weights -= rate * gradient
    return classes, weights


def hand_network(design, target, sample_weight, *, hidden, l2, epochs, seed, batch_size=128):
    rng = np.random.default_rng(seed)
    inputs, outputs = design.shape[1], target.shape[1]
    first = rng.normal(0.0, math.sqrt(2.0 / inputs), size=(inputs, hidden))
    first[-1] = 0.0
    second = rng.normal(0.0, math.sqrt(1.0 / hidden), size=(hidden + 1, outputs))
    second[-1] = 0.0
    parameters = [first, second]
    moments = [np.zeros_like(p) for p in parameters]
    squares = [np.zeros_like(p) for p in parameters]
    beta1, beta2, step = 0.9, 0.999, 0
    for _ in range(epochs):
        order = rng.permutation(len(design))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            x, y, w = design[rows], target[rows], sample_weight[rows]
            activation = np.maximum(x @ first, 0.0)
            hidden_out = np.hstack([activation, np.ones((len(rows), 1))])
            error = (_softmax(hidden_out @ second) - y) * w / len(rows)
            second_gradient = hidden_out.T @ error
            back = (error @ second[:-1].T) * (activation > 0)
            first_gradient = x.T @ back
            second_gradient[:-1] += l2 * second[:-1]
            first_gradient[:-1] += l2 * first[:-1]
            step += 1
            for parameter, gradient, m, v in zip(
                parameters, (first_gradient, second_gradient), moments, squares, strict=True
            ):
                m *= beta1
                m += (1 - beta1) * gradient
                v *= beta2
                v += (1 - beta2) * gradient * gradient
                corrected = m / (1 - beta1**step)
                parameter -= 1e-3 * corrected / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
    return first, second


def hand_holm(p_values):
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def hand_bh(p_values):
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 1.0
    for rank in range(m - 1, -1, -1):
        index = order[rank]
        running = min(running, m * p_values[index] / (rank + 1))
        adjusted[index] = running
    return adjusted.tolist()


# ---- measuring ---------------------------------------------------------------------------


def timed(function: Callable[[], Any], rounds: int = 3) -> tuple[float, Any]:
    """Best wall time of ``rounds`` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(rounds):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def line(
    name: str, library: float, hand: float, note: str, sides: tuple[str, str] = ("library", "hand")
) -> None:
    print(
        f"{name:<40} {sides[0]} {library * 1000:9.1f} ms  {sides[1]} {hand * 1000:9.1f} ms"
        f"  ratio {library / hand:6.2f}  {note}"
    )


def cohesion(unit: np.ndarray, assignment: np.ndarray) -> float:
    """The spherical k-means objective: the summed norms of the clusters' vector sums."""
    return sum(float(np.linalg.norm(unit[assignment == c].sum(axis=0))) for c in set(assignment))


def themes_section(spaced: np.ndarray, truth: list[str]) -> None:
    unit = _normalise(spaced)
    print("k-means, k=8, 10 restarts, demo feedback (480 comments), per seed:")
    scores, times = [], []
    for seed in range(10):
        hand_time, hand = timed(lambda seed=seed: hand_spherical_kmeans(spaced, 8, seed=seed), 1)
        library_time, library = timed(lambda seed=seed: spherical_kmeans(spaced, 8, seed=seed), 1)
        scores.append((adjusted_rand_score(truth, library), adjusted_rand_score(truth, hand)))
        times.append((library_time, hand_time))
        print(
            f"  seed {seed}: ARI {scores[-1][0]:.3f} vs {scores[-1][1]:.3f}"
            f", silhouette {silhouette(spaced, library):.3f} vs {silhouette(spaced, hand):.3f}"
            f", spherical objective {cohesion(unit, library):.1f} vs {cohesion(unit, hand):.1f}"
        )
    library_mean, hand_mean = np.mean(scores, axis=0)
    library_total, hand_total = np.sum(times, axis=0)
    line(
        "k-means, seeds 0-9 together",
        library_total,
        hand_total,
        f"mean ARI {library_mean:.3f} vs {hand_mean:.3f}",
    )
    assignment = spherical_kmeans(spaced, 8)
    hand_time, hand_value = timed(lambda: hand_silhouette(spaced, assignment))
    library_time, library_value = timed(lambda: silhouette(spaced, assignment))
    line(
        "Cosine silhouette, 480 comments",
        library_time,
        hand_time,
        f"value {library_value:.6f} vs {hand_value:.6f}",
    )


def prepared(features: np.ndarray, labels: list[str]) -> tuple:
    """What the calibrator's fit feeds its solver, for the hand-written solvers: the design
    matrix (standardised, bias column last), one-hot targets and balanced sample weights."""
    classes = tuple(label for label in ("negative", "neutral", "positive") if label in labels)
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
    design = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    target = np.zeros((len(labels), len(classes)))
    target[np.arange(len(labels)), [classes.index(label) for label in labels]] = 1.0
    class_weight = len(labels) / (len(classes) * target.sum(axis=0))
    return classes, design, target, (target * class_weight).sum(axis=1, keepdims=True)


def logistic_section(features: np.ndarray, labels: list[str], l2: float = 1e-2) -> None:
    classes, design, target, sample_weight = prepared(features, labels)
    library_time, fitted = timed(lambda: SentimentCalibrator(l2=l2).fit(features, labels))
    hand_time, hand_weights = timed(lambda: hand_logistic(design, target, sample_weight, l2))

    def objective(weights: np.ndarray) -> float:
        probabilities = _softmax(design @ weights)
        loss = -(sample_weight[:, 0] * np.log((probabilities * target).sum(axis=1))).mean()
        return float(loss + l2 / 2 * (weights[:-1] ** 2).sum())

    assert fitted.weights is not None and fitted.classes == classes
    agree = np.mean((design @ fitted.weights).argmax(1) == (design @ hand_weights).argmax(1))
    line(
        f"Logistic regression, {len(labels)} x {features.shape[1]}",
        library_time,
        hand_time,
        f"objective {objective(fitted.weights):.4f} vs {objective(hand_weights):.4f}"
        f", same label on {agree:.1%} of rows",
    )


def synthetic(rng: np.random.Generator, n: int, directions: np.ndarray) -> tuple:
    """A nonlinear 3-class rule over three hidden directions of 391 normal features:
    z0 + z1 x z2 below -0.5 negative, above 0.5 positive, else neutral."""
    features = rng.normal(size=(n, directions.shape[1]))
    projected = features @ directions.T
    score = projected[:, 0] + projected[:, 1] * projected[:, 2]
    labels = np.where(score < -0.5, "negative", np.where(score > 0.5, "positive", "neutral"))
    return features, [str(label) for label in labels]


def network_section(hidden: int = 128, l2: float = 1e-3, epochs: int = 10) -> None:
    rng = np.random.default_rng(2026)
    directions = rng.normal(size=(3, 391))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    train_x, train_y = synthetic(rng, 6000, directions)
    test_x, test_y = synthetic(rng, 3000, directions)
    classes, design, target, sample_weight = prepared(train_x, train_y)
    mean, scale = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    test_design = np.hstack([(test_x - mean) / scale, np.ones((len(test_x), 1))])
    truth = np.array(test_y)
    for members in (1,):
        library_time, library = timed(
            lambda members=members: SentimentCalibrator(
                l2=l2, hidden=hidden, epochs=epochs, members=members
            ).fit(train_x, train_y),
            rounds=1,
        )
        hand_time, networks = timed(
            lambda members=members: [
                hand_network(
                    design, target, sample_weight, hidden=hidden, l2=l2, epochs=epochs, seed=seed
                )
                for seed in range(members)
            ],
            rounds=1,
        )
        logits = sum(
            np.hstack([np.maximum(test_design @ first, 0.0), np.ones((len(test_x), 1))]) @ second
            for first, second in networks
        )
        hand_accuracy = np.mean(np.array(classes)[np.argmax(logits, axis=1)] == truth)
        predicted = np.array(library.classes)[library.predict_proba(test_x).argmax(axis=1)]
        line(
            f"Network {members} x {hidden}, Adam, {epochs} epochs",
            library_time,
            hand_time,
            f"synthetic test accuracy {np.mean(predicted == truth):.3f} vs {hand_accuracy:.3f}",
        )


def p_value_section() -> None:
    start = time.perf_counter()
    from statsmodels.stats.multitest import multipletests

    print(f"(importing statsmodels.stats.multitest: {time.perf_counter() - start:.2f} s, once)")
    rng = np.random.default_rng(7)
    families = [list(rng.uniform(0, 0.2, 20)) for _ in range(50)]
    for name, library, hand in (
        ("Holm (kept)", lambda p: list(multipletests(p, method="holm")[1]), holm_p_values),
        ("BH", bh_p_values, hand_bh),
    ):
        library_time, found = timed(lambda library=library: [library(p) for p in families])
        hand_time, expected = timed(lambda hand=hand: [hand(p) for p in families])
        gap = max(
            abs(a - b)
            for f, e in zip(found, expected, strict=True)
            for a, b in zip(f, e, strict=True)
        )
        line(f"{name}, 50 families of 20 p-values", library_time, hand_time, f"max gap {gap:.1e}")
    gap = max(
        abs(a - b) for p in families for a, b in zip(holm_p_values(p), hand_holm(p), strict=True)
    )
    assert gap == 0.0, "holm_p_values is the hand-written code above"


def threads_section(unit: np.ndarray, features: np.ndarray, labels: list[str]) -> None:
    """Tillit's one-thread fits against the same calls with the default BLAS/OpenMP threads
    (run outside the one-thread limit of the other sections)."""
    _, design, target, sample_weight = prepared(features, labels)
    model = LogisticRegression(C=1 / (len(labels) * 1e-2), max_iter=400)

    def fit_logistic() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(design[:, :-1], target.argmax(axis=1), sample_weight[:, 0])

    def fit_kmeans() -> Any:
        return KMeans(8, n_init=10, random_state=0).fit_predict(unit)

    for name, fit in (("lbfgs", fit_logistic), ("KMeans", fit_kmeans)):
        default, _ = timed(fit)
        with threadpool_limits(limits=1):
            one, _ = timed(fit)
        line(f"{name}, scikit-learn", one, default, "", ("one thread", "default threads"))


def router_section(demo: list, vectors: np.ndarray, threshold: float = 0.6) -> None:
    from insight_throughput import sentence_index

    sentence = np.array([sentence_index(c.text) for c in demo])
    train, test = np.flatnonzero(sentence < 3), np.flatnonzero(sentence == 3)
    languages = [c.language for c in demo]
    space = ThemeSpace.fit(vectors[train], [languages[i] for i in train])
    themes = discover_themes(
        [ThemeComment(demo[i].comment_id, demo[i].text, languages[i]) for i in train],
        space.transform(vectors[train], [languages[i] for i in train]),
        theme_count=8,
    )
    theme_of = {member: t.theme_id for t in themes for member in t.member_ids}
    labels = [theme_of[demo[i].comment_id] for i in train]
    test_space = space.transform(vectors[test], [languages[i] for i in test])
    truth = [theme_id or "" for theme_id, _ in assign_to_themes(test_space, themes)]
    texts, codes = [demo[i].text for i in train], [languages[i] for i in train]
    test_texts, test_codes = [demo[i].text for i in test], [languages[i] for i in test]

    def scored(predicted: list[str], confidence: np.ndarray) -> str:
        sure = confidence >= threshold
        agree = sum(p == t for p, t, s in zip(predicted, truth, sure, strict=True) if s)
        share = f"{agree / sure.sum():5.1%}" if sure.any() else "  -  "
        return f"routes {sure.mean():5.1%} at p >= {threshold}, {share} of those agree with e5"

    def hand() -> tuple:
        return hand_router(hashed_features(texts, codes).toarray(), labels)

    hand_time, (classes, weights) = timed(hand)
    design = hashed_features(test_texts, test_codes).toarray()
    probabilities = _softmax(np.hstack([design, np.ones((len(design), 1))]) @ weights)
    hand_predicted = [classes[b] for b in probabilities.argmax(axis=1)]
    print(
        f"Theme router, {len(train)} comments (demo sentences 0-2) -> {len(test)} (sentence 3):"
        f" old gradient descent {hand_time * 1000:.0f} ms,"
        f" {scored(hand_predicted, probabilities.max(axis=1))}"
    )
    for l2 in (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5):
        library_time, router = timed(lambda l2=l2: ThemeRouter.train(texts, codes, labels, l2=l2))
        routed = router.predict(test_texts, test_codes)
        predicted = [theme_id or "" for theme_id, _ in routed]
        same = np.mean([p == h for p, h in zip(predicted, hand_predicted, strict=True)])
        print(
            f"  lbfgs, L2 {l2:.0e}{' (default)' if l2 == DEFAULT_L2 else '':10}"
            f" {library_time * 1000:6.0f} ms  ratio {library_time / hand_time:5.2f}"
            f"  {scored(predicted, np.array([p for _, p in routed]))},"
            f" top theme as the old one's on {same:.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--router-only", action="store_true", help="only the theme router")
    arguments = parser.parse_args()
    demo = demo_feedback()
    texts = [c.text for c in demo]
    languages = [c.language for c in demo]
    vectors = cached_embeddings(E5Embedder(cache_size=0), texts)
    spaced = ThemeSpace.fit(vectors, languages).transform(vectors, languages)
    features = sentiment_features(vectors, texts, languages)
    labels = [label_from_nps(c.nps) for c in demo]
    if arguments.router_only:
        with threadpool_limits(limits=1):
            router_section(demo, vectors)
        return
    # Both sides on one thread, so the ratios compare the algorithms, not the threading
    # (which threads_section measures on its own).
    with threadpool_limits(limits=1):
        themes_section(spaced, [c.theme for c in demo])
        logistic_section(features, labels)
        network_section()
        p_value_section()
        router_section(demo, vectors)
    threads_section(_normalise(spaced), features, labels)


if __name__ == "__main__":
    main()
