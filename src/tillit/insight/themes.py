"""Themes across languages: discover, label, assign, rename, merge, split.

Comments are embedded in one multilingual space (multilingual-e5), so a Danish and a
Dutch complaint about late delivery sit close together and land in one theme. Themes
are found with spherical k-means (cosine), k chosen by silhouette when not given.
All operations are pure functions returning new ``Theme`` values; persistence is elsewhere.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from tillit.insight.sentiment import tokenize
from tillit.insight.stopwords import STOPWORDS

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
    """Best of ``restarts`` runs by the k-means objective (summed cohesion of clusters)."""
    unit = _normalise(vectors)
    best: tuple[float, NDArray[np.int64]] | None = None
    for attempt in range(restarts):
        assignment = _kmeans_once(unit, k, seed=seed * 1000 + attempt)
        cohesion = sum(
            float(np.linalg.norm(unit[assignment == c].sum(axis=0))) for c in np.unique(assignment)
        )
        if best is None or cohesion > best[0]:
            best = (cohesion, assignment)
    assert best is not None
    return best[1]


def _kmeans_once(
    unit: NDArray[np.float32], k: int, *, seed: int, iterations: int = 50
) -> NDArray[np.int64]:
    """Cluster ids for unit vectors; k-means++ seeding on cosine distance."""
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


def silhouette(vectors: NDArray[np.float32], assignment: NDArray[np.int64]) -> float:
    """Mean silhouette on cosine distance (O(n²): pass a sample for large sets)."""
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


def _label_from_keywords(keywords: dict[str, tuple[str, ...]]) -> str:
    # English keywords make the best label for an English staff UI;
    # otherwise the best-covered language.
    for language in ("en", *sorted(keywords, key=lambda lang: -len(keywords[lang]))):
        if keywords.get(language):
            return " · ".join(keywords[language][:3])
    return "unlabelled"


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
    themes = []
    for number, cluster in enumerate(clusters, start=1):
        indices = np.flatnonzero(assignment == cluster)
        members = [comments[int(i)] for i in indices]
        centroid = _normalise(unit[indices].mean(axis=0))
        closest = indices[np.argsort(-(unit[indices] @ centroid))[:REPRESENTATIVES]]
        keywords = _keywords_by_language(members, background, len(clusters))
        themes.append(
            Theme(
                theme_id=f"{id_prefix}-{number}",
                label=_label_from_keywords(keywords),
                centroid=centroid,
                member_ids=tuple(c.comment_id for c in members),
                keywords=keywords,
                representatives=tuple(comments[int(i)].text for i in closest),
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
