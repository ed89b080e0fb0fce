"""Themes across languages: discover, label, assign, rename, merge, split.

Comments are embedded in one multilingual space (multilingual-e5), so a Danish and a
Dutch complaint about late delivery sit close together and land in one theme. Themes
are found with k-means on the unit vectors (cosine; scikit-learn's), k chosen by the
cosine silhouette (scikit-learn's) when not given.
All operations are pure functions returning new ``Theme`` values; persistence is elsewhere.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from tillit.insight.sentiment import tokenize
from tillit.insight.stopwords import STOPWORDS
from tillit.insight.theme_names import (
    STAFF_LANGUAGE,
    Named,
    distinct_names,
    name_theme,
    subjects_of,
)

# Cosine similarity below which a new comment is left unassigned (a candidate new theme).
# Measured in the language-centred ThemeSpace, where similarities spread over about -0.2–0.9.
DEFAULT_MIN_SIMILARITY = 0.2
KEYWORDS_PER_LANGUAGE = 5
REPRESENTATIVES = 3


@dataclass(frozen=True)
class ThemeComment:
    comment_id: str
    text: str
    language: str


@dataclass(frozen=True, eq=False)
class Theme:
    theme_id: str
    label: str
    centroid: NDArray[np.float32]
    member_ids: tuple[str, ...]
    keywords: dict[str, tuple[str, ...]]
    representatives: tuple[str, ...]
    # The plain-words name in each staff language (theme_names); ``label`` is the staff
    # language's, or what staff renamed it to.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.member_ids)


@dataclass(frozen=True, eq=False)
class ThemeSpace:
    """Per-language centring of embeddings; fit once, reuse when assigning new comments."""

    language_means: dict[str, NDArray[np.float32]]
    overall_mean: NDArray[np.float32]

    @classmethod
    def fit(cls, vectors: NDArray[np.float32], languages: Sequence[str]) -> ThemeSpace:
        codes = np.array(languages)
        means = {str(code): vectors[codes == code].mean(axis=0) for code in set(languages)}
        return cls(means, vectors.mean(axis=0))

    def transform(
        self, vectors: NDArray[np.float32], languages: Sequence[str]
    ) -> NDArray[np.float32]:
        means = np.array([self.language_means.get(code, self.overall_mean) for code in languages])
        return _normalise(vectors - means.reshape(vectors.shape))


def _normalise(matrix: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    normalised: NDArray[np.float32] = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def spherical_kmeans(
    vectors: NDArray[np.float32], k: int, *, seed: int = 0, restarts: int = 10
) -> NDArray[np.int64]:
    """k-means on the unit vectors: scikit-learn's ``KMeans``, best of ``restarts``
    k-means++ starts. On the unit sphere the squared distance is 2 − 2·cosine, so each
    comment goes to its most similar centroid; unlike textbook spherical k-means the
    centroids are not re-normalised. On the demo feedback (k=8, seeds 0-9) that scored a
    mean adjusted Rand index of 0.573 against the themes the comments were written for,
    0.548 for the hand-written spherical k-means it replaced (benchmarks/insight_numerics.py).
    """
    # scikit-learn is imported where it is used (here and in sentiment.py): importing it
    # costs about half again what importing tillit.insight does (4.7-6.3 s on 8.3-9.1 s on
    # the busy test machine), and the web app and CLI import tillit.insight at start-up.
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    with threadpool_limits(limits=1), warnings.catch_warnings():
        # One BLAS/OpenMP thread for a few hundred vectors: see SentimentCalibrator.fit.
        # Fewer distinct comments than k (repeated texts) give fewer clusters, as before;
        # scikit-learn's warning about it would only alarm whoever reads the log.
        warnings.simplefilter("ignore", ConvergenceWarning)
        found = KMeans(k, n_init=restarts, random_state=seed).fit_predict(_normalise(vectors))
    assignment: NDArray[np.int64] = found.astype(np.int64)
    return assignment


def silhouette(vectors: NDArray[np.float32], assignment: NDArray[np.int64]) -> float:
    """Mean silhouette on cosine distance (scikit-learn's; O(n²) time, so pass a sample for
    large sets); -1 when there are fewer than two clusters to compare."""
    from sklearn.metrics import silhouette_score

    clusters = len(np.unique(assignment))
    if clusters < 2 or clusters >= len(vectors):
        # scikit-learn refuses these; every point is then alone or all are together.
        return 0.0 if clusters >= 2 else -1.0
    return float(silhouette_score(vectors, assignment, metric="cosine"))


def choose_theme_count(
    vectors: NDArray[np.float32], *, candidates: Sequence[int] = range(2, 13), seed: int = 0
) -> int:
    rng = np.random.default_rng(seed)
    sample = (
        vectors if len(vectors) <= 800 else vectors[rng.choice(len(vectors), 800, replace=False)]
    )
    usable = [k for k in candidates if k < len(sample)]
    if not usable:
        return 1
    return max(
        usable, key=lambda k: silhouette(sample, spherical_kmeans(sample, k, seed=seed, restarts=3))
    )


def _keywords_by_language(
    members: Sequence[ThemeComment], background: Counter[tuple[str, str]], total_themes: int
) -> dict[str, tuple[str, ...]]:
    """Class-based TF-IDF per language: words frequent here and rare in other themes."""
    counts: dict[str, Counter[str]] = {}
    for comment in members:
        words = {
            w
            for w in tokenize(comment.text)
            if len(w) > 2 and w not in STOPWORDS.get(comment.language, ())
        }
        counts.setdefault(comment.language, Counter()).update(words)
    keywords = {}
    for language, counter in counts.items():
        weight = {
            word: count * math.log(1 + total_themes / background[(language, word)])
            for word, count in counter.items()
            if count >= 2 or len(members) < 6
        }
        ranked = sorted(weight, key=lambda word: (-weight[word], word))
        keywords[language] = tuple(ranked[:KEYWORDS_PER_LANGUAGE])
    return keywords


def build_themes(
    comments: Sequence[ThemeComment],
    vectors: NDArray[np.float32],
    assignment: NDArray[np.int64],
    *,
    id_prefix: str = "theme",
) -> list[Theme]:
    """Themes with centroid, keywords per language, label and representative comments."""
    unit = _normalise(vectors)
    clusters = [int(c) for c in np.unique(assignment)]
    background: Counter[tuple[str, str]] = Counter()
    for cluster in clusters:
        seen = {
            (c.language, w)
            for c, a in zip(comments, assignment, strict=True)
            if a == cluster
            for w in tokenize(c.text)
        }
        background.update(seen)
    found = [subjects_of(c.text, c.language) for c in comments]
    parts = []
    for cluster in clusters:
        indices = np.flatnonzero(assignment == cluster)
        members = [comments[int(i)] for i in indices]
        keywords = _keywords_by_language(members, background, len(clusters))
        parts.append((indices, members, keywords))
    named: list[Named] = [
        name_theme([found[int(i)] for i in indices], found, keywords)
        for indices, _members, keywords in parts
    ]
    distinct_names(named, [keywords for _indices, _members, keywords in parts])
    themes = []
    for number, ((indices, members, keywords), name) in enumerate(
        zip(parts, named, strict=True), start=1
    ):
        centroid = _normalise(unit[indices].mean(axis=0))
        closest = indices[np.argsort(-(unit[indices] @ centroid))[:REPRESENTATIVES]]
        themes.append(
            Theme(
                theme_id=f"{id_prefix}-{number}",
                label=name.names[STAFF_LANGUAGE],
                centroid=centroid,
                member_ids=tuple(c.comment_id for c in members),
                keywords=keywords,
                representatives=tuple(comments[int(i)].text for i in closest),
                names=name.names,
            )
        )
    return themes


def discover_themes(
    comments: Sequence[ThemeComment],
    vectors: NDArray[np.float32],
    *,
    theme_count: int | None = None,
    seed: int = 0,
) -> list[Theme]:
    """Cluster comments into themes.

    ``vectors`` are in a ``ThemeSpace``; ``theme_count`` None picks k by silhouette.
    """
    if len(comments) != len(vectors):
        raise ValueError("one vector per comment is needed")
    if not comments:
        return []
    k = theme_count or choose_theme_count(vectors, seed=seed)
    k = max(1, min(k, len(comments)))
    return build_themes(comments, vectors, spherical_kmeans(vectors, k, seed=seed))


def assign_to_themes(
    vectors: NDArray[np.float32],
    themes: Sequence[Theme],
    *,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> list[tuple[str | None, float]]:
    """Nearest theme per vector and its cosine similarity; None when below ``min_similarity``."""
    if not themes:
        return [(None, 0.0)] * len(vectors)
    similarity = _normalise(vectors) @ np.array([t.centroid for t in themes]).T
    best = np.argmax(similarity, axis=1)
    return [
        (
            themes[b].theme_id if similarity[i, b] >= min_similarity else None,
            float(similarity[i, b]),
        )
        for i, b in enumerate(best)
    ]


def absorb_comments(
    theme: Theme, comment_ids: Sequence[str], vectors: NDArray[np.float32]
) -> Theme:
    """Add newly assigned comments, moving the centroid as a running mean."""
    if not len(comment_ids):
        return theme
    total = theme.centroid * theme.size + _normalise(vectors).sum(axis=0)
    return replace(
        theme, centroid=_normalise(total), member_ids=theme.member_ids + tuple(comment_ids)
    )


def rename_theme(theme: Theme, label: str) -> Theme:
    if not label.strip():
        raise ValueError("a theme label cannot be empty")
    return replace(theme, label=label.strip())


def merge_themes(first: Theme, second: Theme, *, label: str | None = None) -> Theme:
    """One theme from two; the centroid is the size-weighted mean, ids of ``first`` kept."""
    centroid = _normalise(first.centroid * first.size + second.centroid * second.size)
    keywords = {
        language: tuple(
            dict.fromkeys(first.keywords.get(language, ()) + second.keywords.get(language, ()))
        )[:KEYWORDS_PER_LANGUAGE]
        for language in first.keywords.keys() | second.keywords.keys()
    }
    bigger, smaller = (first, second) if first.size >= second.size else (second, first)
    return Theme(
        theme_id=first.theme_id,
        label=label or f"{first.label} + {second.label}",
        centroid=centroid,
        member_ids=first.member_ids + second.member_ids,
        keywords=keywords,
        representatives=(bigger.representatives + smaller.representatives)[:REPRESENTATIVES],
    )


def split_theme(
    theme: Theme,
    comments: Sequence[ThemeComment],
    vectors: NDArray[np.float32],
    *,
    parts: int = 2,
    seed: int = 0,
) -> list[Theme]:
    """Re-cluster one theme's members into ``parts`` sub-themes (ids ``<id>.1``, ``<id>.2``…)."""
    members = set(theme.member_ids)
    keep = [i for i, c in enumerate(comments) if c.comment_id in members]
    if len(keep) < parts:
        raise ValueError(
            f"theme {theme.theme_id} has {len(keep)} comments, cannot split in {parts}"
        )
    sub_comments = [comments[i] for i in keep]
    sub_vectors = vectors[keep]
    assignment = spherical_kmeans(sub_vectors, parts, seed=seed)
    return build_themes(sub_comments, sub_vectors, assignment, id_prefix=f"{theme.theme_id}")
