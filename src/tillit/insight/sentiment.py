"""Sentiment: negative / neutral / positive, a score in [-1, 1] and the phrases behind it.

Two layers:

1. ``score_sentiment`` — a transparent lexicon scorer with negation, so every score can be
   explained by the words that drove it, in all five languages and with no workspace data.
2. ``SentimentCalibrator`` — a small multinomial logistic regression fitted on the
   workspace's own scored comments (NPS 0–10 or CSAT 1–5 as weak labels) over sentence
   embeddings plus the lexicon score. When fitted, it decides the label and score; the
   lexicon hits remain the explanation.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from tillit.insight.lexicon import (
    CONTRASTS,
    INTENSIFIER_BOOST,
    INTENSIFIERS,
    NEGATORS,
    lexicon_for,
)

SentimentLabel = Literal["negative", "neutral", "positive"]
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")

# Below this absolute lexicon score a comment reads as neutral.
NEUTRAL_BAND = 0.2
# How many following tokens a negator reaches ("not very helpful").
NEGATION_REACH = 3
# Normalisation constant as in VADER: score = s / sqrt(s² + α) keeps long rants in [-1, 1].
_SATURATION = 15.0
_TOKEN = re.compile(r"[\w']+", re.UNICODE)
# For the lexicon: words plus the punctuation that ends a clause, where negation stops.
_CLAUSE_TOKEN = re.compile(r"[\w']+|[.,;:!?]", re.UNICODE)
_CLAUSE_END = frozenset(".,;:!?")


class CalibrationError(ValueError):
    """Too few or one-sided scored comments to calibrate on."""


@dataclass(frozen=True)
class SentimentResult:
    label: SentimentLabel
    score: float
    explanation: tuple[tuple[str, float], ...] = ()
    calibrated: bool = False


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def clause_tokens(text: str) -> list[str]:
    return _CLAUSE_TOKEN.findall(text.lower().replace("’", "'"))


def _lexicon_hits(tokens: list[str], language: str) -> list[tuple[str, float]]:
    lexicon = lexicon_for(language)
    negators = NEGATORS.get(language, frozenset())
    intensifiers = INTENSIFIERS.get(language, frozenset())
    contrasts = CONTRASTS.get(language, frozenset())
    hits: list[tuple[str, float]] = []
    positions: list[int] = []
    negated_until = -1
    last_contrast = -1
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _CLAUSE_END:
            # "Never arrived. Terrible service!": the negation does not reach "terrible".
            negated_until = -1
            index += 1
            continue
        if token in negators:
            negated_until = index + NEGATION_REACH
            index += 1
            continue
        if token in contrasts:
            last_contrast = index
        if token in intensifiers and index + 1 < len(tokens) and tokens[index + 1] in lexicon:
            index += 1  # boosts the next word instead of counting itself ("helt elendig")
            continue
        bigram = f"{token} {tokens[index + 1]}" if index + 1 < len(tokens) else ""
        phrase, width = (bigram, 2) if bigram in lexicon else (token, 1)
        valence = lexicon.get(phrase)
        if valence:
            if index > 0 and tokens[index - 1] in intensifiers:
                # "very slow" is worse than "slow".
                phrase = f"{tokens[index - 1]} {phrase}"
                valence += math.copysign(INTENSIFIER_BOOST, valence)
            if index <= negated_until:
                # "not good" is weaker than "bad": flip and damp, as VADER does.
                phrase, valence = f"¬{phrase}", -0.74 * valence
            hits.append((phrase, valence))
            positions.append(index)
        index += width
    if last_contrast >= 0:
        hits = [
            (phrase, valence * (0.5 if position < last_contrast else 1.5))
            for (phrase, valence), position in zip(hits, positions, strict=True)
        ]
    return [(phrase, round(valence, 2)) for phrase, valence in hits]


def _label_for(score: float) -> SentimentLabel:
    if score <= -NEUTRAL_BAND:
        return "negative"
    if score >= NEUTRAL_BAND:
        return "positive"
    return "neutral"


def lexicon_score(text: str, language: str) -> tuple[float, list[tuple[str, float]]]:
    hits = _lexicon_hits(clause_tokens(text), language)
    total = sum(valence for _, valence in hits)
    if "!" in text and total:
        total *= 1.15  # exclamation marks intensify whatever polarity is there
    return _squash(total), hits


def score_sentiment(text: str, *, language: str) -> SentimentResult:
    """Lexicon-only sentiment of one comment in a known language."""
    score, hits = lexicon_score(text, language)
    strongest_first = tuple(sorted(hits, key=lambda hit: -abs(hit[1])))
    return SentimentResult(_label_for(score), round(score, 4), strongest_first)


def label_from_nps(score: int) -> SentimentLabel:
    """NPS 0–6 detractor, 7–8 passive, 9–10 promoter."""
    if not 0 <= score <= 10:
        raise ValueError(f"NPS score must be 0..10, got {score}")
    return "negative" if score <= 6 else "neutral" if score <= 8 else "positive"


def label_from_csat(score: int) -> SentimentLabel:
    """CSAT 1–2 dissatisfied, 3 neutral, 4–5 satisfied."""
    if not 1 <= score <= 5:
        raise ValueError(f"CSAT score must be 1..5, got {score}")
    return "negative" if score <= 2 else "neutral" if score == 3 else "positive"


def _squash(total: float) -> float:
    return total / math.sqrt(total * total + _SATURATION)


def lexicon_features(text: str, language: str) -> list[float]:
    """What the lexicon saw, as numbers: overall score, positive and negative mass (each
    squashed like the score), share of negated hits, exclamation and question marks, and
    length. The embedding knows the meaning; these tell it what the lexicon counted."""
    tokens = tokenize(text)
    hits = _lexicon_hits(clause_tokens(text), language)
    positive = sum(v for _, v in hits if v > 0)
    negative = sum(v for _, v in hits if v < 0)
    negated = sum(phrase.startswith("¬") for phrase, _ in hits)
    return [
        lexicon_score(text, language)[0],
        _squash(positive),
        _squash(negative),
        negated / max(len(hits), 1),
        min(text.count("!"), 3) / 3,
        float("?" in text),
        math.log1p(len(tokens)),
    ]


LEXICON_FEATURES = 7


def sentiment_features(
    embeddings: NDArray[np.float32], texts: Sequence[str], languages: Sequence[str]
) -> NDArray[np.float64]:
    """Embedding plus the lexicon's features (``lexicon_features``): the calibrator's input."""
    lexical = np.array(
        [lexicon_features(text, language) for text, language in zip(texts, languages, strict=True)]
    ).reshape(len(texts), LEXICON_FEATURES)
    return np.hstack([embeddings.astype(np.float64), lexical])


@dataclass
class SentimentCalibrator:
    """Multinomial logistic regression with L2, fitted by full-batch gradient descent.

    Small on purpose: a workspace has hundreds, not millions, of scored comments. With
    ``hidden`` > 0 it becomes a one-hidden-layer network (ReLU, L2, class-balanced, fitted
    by mini-batch Adam for ``epochs`` passes): the shipped head, trained offline on
    thousands of snippets. ``members`` > 1 fits that many networks from different seeds
    and averages their logits, which is again one network (``members`` x ``hidden`` units).
    Inference is two small matrix products in NumPy either way.
    """

    # Chosen on a 20 % hold-out *inside* the English training split of
    # benchmarks/insight_quality.py (1e-3: 0.59, 1e-2: 0.62, 3e-2: 0.62, 1e-1: 0.62 macro-F1).
    l2: float = 1e-2
    iterations: int = 400
    learning_rate: float = 0.5
    classes: tuple[SentimentLabel, ...] = field(default=LABELS)
    # One hidden layer of this many ReLU units; 0 = plain logistic regression.
    hidden: int = 0
    members: int = 1
    epochs: int = 30
    adam_rate: float = 1e-3
    batch_size: int = 128
    seed: int = 0
    weights: NDArray[np.float64] | None = None
    # (features + 1) x hidden, the last row the bias; None without a hidden layer.
    hidden_weights: NDArray[np.float64] | None = None
    mean: NDArray[np.float64] | None = None
    scale: NDArray[np.float64] | None = None
    trained_on: int = 0

    @property
    def is_fitted(self) -> bool:
        return self.weights is not None

    def fit(self, features: NDArray[np.float64], labels: Sequence[str]) -> SentimentCalibrator:
        present = tuple(label for label in LABELS if label in set(labels))
        if len(labels) < 10 or len(present) < 2:
            raise CalibrationError("need at least 10 scored comments covering two sentiments")
        self.classes = present
        target = np.zeros((len(labels), len(present)))
        target[np.arange(len(labels)), [present.index(label) for label in labels]] = 1.0
        self.mean = features.mean(axis=0)
        self.scale = features.std(axis=0) + 1e-6
        design = self._design(features)
        # Balance classes so a workspace full of promoters still learns what a complaint is.
        class_weight = len(labels) / (len(present) * target.sum(axis=0))
        sample_weight = (target * class_weight).sum(axis=1, keepdims=True)
        self.trained_on = len(labels)
        if self.hidden > 0:
            self._fit_hidden(design, target, sample_weight)
            return self
        self.hidden_weights = None
        weights = np.zeros((design.shape[1], len(present)))
        for _ in range(self.iterations):
            gradient = design.T @ ((_softmax(design @ weights) - target) * sample_weight)
            gradient /= len(labels)
            gradient[:-1] += self.l2 * weights[:-1]
            weights -= self.learning_rate * gradient
        self.weights = weights
        return self

    def _fit_hidden(
        self,
        design: NDArray[np.float64],
        target: NDArray[np.float64],
        sample_weight: NDArray[np.float64],
    ) -> None:
        networks = [
            self._fit_network(design, target, sample_weight, self.seed + member)
            for member in range(self.members)
        ]
        # Averaging the members' logits is one wider network: their hidden units side by
        # side, each output weight divided by the number of members.
        self.hidden_weights = np.hstack([first for first, _ in networks])
        self.weights = (
            np.vstack(
                [second[:-1] for _, second in networks]
                + [np.sum([second[-1:] for _, second in networks], axis=0)]
            )
            / self.members
        )

    def _fit_network(
        self,
        design: NDArray[np.float64],
        target: NDArray[np.float64],
        sample_weight: NDArray[np.float64],
        seed: int,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mini-batch Adam (step ``adam_rate``) on the class-balanced cross-entropy plus
        ``l2`` / 2 times the squared weights (biases excluded). Deterministic per seed."""
        rng = np.random.default_rng(seed)
        inputs, outputs = design.shape[1], target.shape[1]
        first = rng.normal(0.0, math.sqrt(2.0 / inputs), size=(inputs, self.hidden))
        first[-1] = 0.0
        second = rng.normal(0.0, math.sqrt(1.0 / self.hidden), size=(self.hidden + 1, outputs))
        second[-1] = 0.0
        parameters = [first, second]
        moments = [np.zeros_like(p) for p in parameters]
        squares = [np.zeros_like(p) for p in parameters]
        beta1, beta2, step = 0.9, 0.999, 0
        for _ in range(self.epochs):
            order = rng.permutation(len(design))
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                x, y, w = design[rows], target[rows], sample_weight[rows]
                activation = np.maximum(x @ first, 0.0)
                hidden = np.hstack([activation, np.ones((len(rows), 1))])
                error = (_softmax(hidden @ second) - y) * w / len(rows)
                second_gradient = hidden.T @ error
                back = (error @ second[:-1].T) * (activation > 0)
                first_gradient = x.T @ back
                second_gradient[:-1] += self.l2 * second[:-1]
                first_gradient[:-1] += self.l2 * first[:-1]
                step += 1
                for parameter, gradient, m, v in zip(
                    parameters, (first_gradient, second_gradient), moments, squares, strict=True
                ):
                    m *= beta1
                    m += (1 - beta1) * gradient
                    v *= beta2
                    v += (1 - beta2) * gradient * gradient
                    corrected = m / (1 - beta1**step)
                    parameter -= (
                        self.adam_rate * corrected / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
                    )
        return first, second

    def _design(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        assert self.mean is not None and self.scale is not None
        standardised = (features - self.mean) / self.scale
        return np.hstack([standardised, np.ones((len(features), 1))])

    def predict_proba(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.weights is None:
            raise CalibrationError("calibrator is not fitted")
        design = self._design(features)
        if self.hidden_weights is not None:
            activation = np.maximum(design @ self.hidden_weights, 0.0)
            design = np.hstack([activation, np.ones((len(features), 1))])
        return _softmax(design @ self.weights)

    def predict(
        self, features: NDArray[np.float64], lexicon_results: Sequence[SentimentResult]
    ) -> list[SentimentResult]:
        """Calibrated label and score (P(positive) − P(negative)); lexicon hits explain it."""
        probabilities = self.predict_proba(features)
        results = []
        for row, lexical in zip(probabilities, lexicon_results, strict=True):
            by_label = dict(zip(self.classes, row, strict=True))
            score = float(by_label.get("positive", 0.0) - by_label.get("negative", 0.0))
            label = self.classes[int(np.argmax(row))]
            results.append(SentimentResult(label, round(score, 4), lexical.explanation, True))
        return results

    def to_bytes(self) -> bytes:
        if self.weights is None or self.mean is None or self.scale is None:
            raise CalibrationError("calibrator is not fitted")
        arrays: dict[str, NDArray[Any]] = {
            "weights": self.weights,
            "mean": self.mean,
            "scale": self.scale,
            "classes": np.array(self.classes),
            "l2": np.array(self.l2),
            "trained_on": np.array(self.trained_on),
        }
        if self.hidden_weights is not None:
            arrays["hidden_weights"] = self.hidden_weights
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SentimentCalibrator:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            classes = tuple(str(c) for c in stored["classes"])
            hidden_weights = stored.get("hidden_weights")
            return cls(
                l2=float(stored["l2"]),
                classes=tuple(c for c in LABELS if c in classes),
                hidden=0 if hidden_weights is None else hidden_weights.shape[1],
                weights=stored["weights"],
                hidden_weights=hidden_weights,
                mean=stored["mean"],
                scale=stored["scale"],
                trained_on=int(stored["trained_on"]),
            )


SENTIMENT_HEAD_FILE = "sentiment-head-e5-hutto2014.npz"


@lru_cache(maxsize=1)
def default_sentiment_head() -> SentimentCalibrator:
    """The shipped sentiment model over e5 + lexicon features, for comments of any of the
    five languages when the workspace has too few scored comments of its own.

    Trained by ``benchmarks/train_sentiment_head.py`` on the training split of Hutto &
    Gilbert's English snippets (MIT, from the ``vaderSentiment==3.3.2`` sdist); the other
    languages rely on e5's shared vector space (measured for Dutch in docs/insight.md).
    """
    data = (files("tillit.insight") / "data" / SENTIMENT_HEAD_FILE).read_bytes()
    return SentimentCalibrator.from_bytes(data)


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities: NDArray[np.float64] = shifted / shifted.sum(axis=1, keepdims=True)
    return probabilities
