"""Theme trends, alerts and unspoken needs.

Alerts use exact one-sided tests against a trailing baseline, then Benjamini–Hochberg
across all (theme, test) pairs of the period so that many themes do not mean many false
alarms:

* **Growth** — the current period's count ``x`` for a theme against the mean count ``λ``
  of the trailing ``baseline_periods`` periods: Poisson test, p = P(X ≥ x | λ), with
  λ floored at 0.5 so a brand-new theme can still alert.
* **Turning negative** — ``k`` negative of ``n`` comments now against the baseline
  negative share ``p₀`` (pooled over the trailing periods, Laplace-smoothed):
  binomial test, p = P(K ≥ k | n, p₀).

An alert is raised when the BH-adjusted p-value is below ``false_discovery_rate``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from tillit.insight.sentiment import SentimentLabel, tokenize
from tillit.insight.stopwords import STOPWORDS
from tillit.insight.themes import Theme

AlertKind = Literal["growth", "turning_negative"]


@dataclass(frozen=True)
class ThemeObservation:
    at: datetime
    theme_id: str
    sentiment: SentimentLabel


@dataclass(frozen=True)
class TrendPoint:
    period_start: datetime
    theme_id: str
    volume: int
    negative_share: float
    mean_sentiment: float


@dataclass(frozen=True)
class ThemeAlert:
    theme_id: str
    kind: AlertKind
    observed: float
    expected: float
    p_value: float
    adjusted_p_value: float


def period_start(at: datetime, period: timedelta, origin: datetime) -> datetime:
    return origin + period * ((at - origin) // period)


def theme_trends(
    observations: Iterable[ThemeObservation],
    *,
    period: timedelta = timedelta(weeks=1),
    origin: datetime,
) -> list[TrendPoint]:
    """Volume, negative share and mean sentiment (-1/0/+1) per theme and period."""
    value = {"negative": -1, "neutral": 0, "positive": 1}
    buckets: dict[tuple[datetime, str], list[int]] = defaultdict(list)
    for obs in observations:
        buckets[(period_start(obs.at, period, origin), obs.theme_id)].append(value[obs.sentiment])
    return [
        TrendPoint(start, theme, len(v), sum(1 for s in v if s < 0) / len(v), sum(v) / len(v))
        for (start, theme), v in sorted(buckets.items())
    ]


# The tail probabilities and the Benjamini-Hochberg adjustment are SciPy's (they were
# hand-written sums over math.lgamma; SciPy's agree within 5e-14 on 2,000 random cases).


def poisson_upper_tail(observed: int, rate: float) -> float:
    """P(X ≥ observed) for X ~ Poisson(rate)."""
    if observed <= 0:
        return 1.0
    return float(stats.poisson.sf(observed - 1, rate))


def binomial_upper_tail(successes: int, trials: int, probability: float) -> float:
    """P(K ≥ successes) for K ~ Binomial(trials, probability)."""
    return float(stats.binom.sf(successes - 1, trials, probability))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """BH-adjusted p-values (step-up, monotone), in the input order."""
    if not p_values:
        return []
    return [float(p) for p in stats.false_discovery_control(list(p_values), method="bh")]


def detect_alerts(
    observations: Sequence[ThemeObservation],
    *,
    current_period_start: datetime,
    period: timedelta = timedelta(weeks=1),
    baseline_periods: int = 6,
    false_discovery_rate: float = 0.05,
    min_volume: int = 5,
) -> list[ThemeAlert]:
    """Themes that grew or turned negative in the period starting at ``current_period_start``."""
    baseline_start = current_period_start - period * baseline_periods
    current_end = current_period_start + period
    now: dict[str, Counter[str]] = defaultdict(Counter)
    before: dict[str, Counter[str]] = defaultdict(Counter)
    for obs in observations:
        if current_period_start <= obs.at < current_end:
            now[obs.theme_id][obs.sentiment] += 1
        elif baseline_start <= obs.at < current_period_start:
            before[obs.theme_id][obs.sentiment] += 1
    candidates: list[tuple[str, AlertKind, float, float, float]] = []
    for theme_id, counts in now.items():
        volume = sum(counts.values())
        if volume < min_volume:
            continue
        history = before.get(theme_id, Counter())
        rate = max(sum(history.values()) / baseline_periods, 0.5)
        candidates.append((theme_id, "growth", volume, rate, poisson_upper_tail(volume, rate)))
        baseline_share = (history["negative"] + 1) / (sum(history.values()) + 2)
        negative = counts["negative"]
        candidates.append(
            (
                theme_id,
                "turning_negative",
                negative / volume,
                baseline_share,
                binomial_upper_tail(negative, volume, baseline_share),
            )
        )
    adjusted = benjamini_hochberg([c[4] for c in candidates])
    alerts = [
        ThemeAlert(theme_id, kind, round(observed, 4), round(expected, 4), p, q)
        for (theme_id, kind, observed, expected, p), q in zip(candidates, adjusted, strict=True)
        if q < false_discovery_rate
    ]
    return sorted(alerts, key=lambda alert: alert.adjusted_p_value)


@dataclass(frozen=True)
class UnspokenNeed:
    theme_id: str
    label: str
    volume: int
    negative_share: float
    best_coverage: str | None
    coverage_similarity: float


def _keyword_set(text: str, language: str | None = None) -> set[str]:
    stop = (
        set().union(*STOPWORDS.values())
        if language is None
        else STOPWORDS.get(language, frozenset())
    )
    return {word for word in tokenize(text) if len(word) > 2 and word not in stop}


def find_unspoken_needs(
    themes: Sequence[Theme],
    theme_sentiments: dict[str, Sequence[SentimentLabel]],
    coverage: Sequence[str],
    *,
    coverage_vectors: NDArray[np.float32] | None = None,
    min_volume: int = 10,
    min_negative_share: float = 0.5,
    min_similarity: float = 0.3,
) -> list[UnspokenNeed]:
    """Frequent, negative themes that no question, topic or goal covers.

    ``coverage`` holds the texts of the workspace's questions/topics/goals. A theme is
    covered when a coverage text shares a keyword with the theme's keywords (any
    language) or — given ``coverage_vectors`` in the themes' space — when its cosine
    similarity to the theme centroid reaches ``min_similarity``.
    """
    coverage_words = [_keyword_set(text) for text in coverage]
    needs = []
    for theme in themes:
        labels = theme_sentiments.get(theme.theme_id, ())
        if len(labels) < min_volume:
            continue
        negative_share = sum(1 for label in labels if label == "negative") / len(labels)
        if negative_share < min_negative_share:
            continue
        theme_words = {word for words in theme.keywords.values() for word in words}
        keyword_hit = next(
            (
                text
                for text, words in zip(coverage, coverage_words, strict=True)
                if words & theme_words
            ),
            None,
        )
        similarity, nearest = 0.0, None
        if coverage_vectors is not None and len(coverage):
            sims = coverage_vectors @ theme.centroid
            nearest, similarity = coverage[int(np.argmax(sims))], float(np.max(sims))
        if keyword_hit is None and similarity < min_similarity:
            needs.append(
                UnspokenNeed(
                    theme.theme_id,
                    theme.label,
                    len(labels),
                    round(negative_share, 4),
                    nearest,
                    round(similarity, 4),
                )
            )
    return sorted(needs, key=lambda need: (-need.volume * need.negative_share, need.theme_id))
