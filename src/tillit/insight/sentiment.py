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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

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


LANGUAGE_OFFSETS_FILE = "e5-language-offsets-demo.npz"


@lru_cache(maxsize=1)
def language_offsets() -> dict[str, NDArray[np.float32]]:
    """Per language, how far its e5 vectors sit from English ones saying the same thing:
    the mean vector of the language's demo comments minus the English mean (the demo
    feedback says the same things in all five languages; ``benchmarks/language_offsets.py``).
    """
    data = (files("tillit.insight") / "data" / LANGUAGE_OFFSETS_FILE).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        return {name: stored[name].astype(np.float32) for name in stored.files}


def align_to_english(
    embeddings: NDArray[np.float32],
    languages: Sequence[str],
    offsets: Mapping[str, NDArray[np.float32]] | None = None,
) -> NDArray[np.float32]:
    """Each vector moved by its language's offset towards English, then re-normalised.

    The shipped head learnt sentiment from English only; e5's vectors for a Danish or
    Bokmål sentence also carry "this is Danish", which the head read as "neutral" (on the
    demo feedback it called 32 of 85 Danish and 41 of 87 Bokmål comments neutral, 6 and 7
    were). Without the offset the head's binary accuracy there was da 0.72, sv 0.87,
    nb 0.78, nl 0.96; with it 0.91, 0.89, 0.94, 0.96, English unchanged at 0.95.
    Row by row, so a comment's vector never depends on its batch. ``offsets``: the shipped
    ``language_offsets()`` unless given (benchmarks pass others)."""
    if not len(embeddings):
        return embeddings
    offsets = language_offsets() if offsets is None else offsets
    zero = np.zeros(embeddings.shape[1], np.float32)
    shift = np.array([offsets.get(code, zero) for code in languages], np.float32)
    moved = embeddings - shift
    norms = np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-6)
    aligned: NDArray[np.float32] = (moved / norms).astype(np.float32)
    return aligned


def sentiment_features(
    embeddings: NDArray[np.float32],
    texts: Sequence[str],
    languages: Sequence[str],
    offsets: Mapping[str, NDArray[np.float32]] | None = None,
) -> NDArray[np.float64]:
    """Embedding (aligned to English, ``align_to_english``) plus the lexicon's features
    (``lexicon_features``): the head's and the calibrator's input."""
    embeddings = align_to_english(embeddings, languages, offsets)
    lexical = np.array(
        [lexicon_features(text, language) for text, language in zip(texts, languages, strict=True)]
    ).reshape(len(texts), LEXICON_FEATURES)
    return np.hstack([embeddings.astype(np.float64), lexical])


@dataclass
class SentimentCalibrator:
    """Multinomial logistic regression with L2 (scikit-learn's, class-balanced).

    Small on purpose: a workspace has hundreds, not millions, of scored comments. With
    ``hidden`` > 0 it becomes a one-hidden-layer network (ReLU, L2, class-balanced, fitted
    by scikit-learn's mini-batch Adam for ``epochs`` passes): the shipped head, trained
    offline on thousands of snippets. ``members`` > 1 fits that many networks from different seeds
    and averages their logits, which is again one network (``members`` x ``hidden`` units).
    Inference is two small matrix products in NumPy either way.
    """

    # Chosen on a 20 % hold-out *inside* the English training split of
    # benchmarks/insight_quality.py (1e-3: 0.59, 1e-2: 0.62, 3e-2: 0.62, 1e-1: 0.62 macro-F1).
    l2: float = 1e-2
    # lbfgs' iteration cap for the logistic regression.
    iterations: int = 400
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
        self.mean = features.mean(axis=0)
        self.scale = features.std(axis=0) + 1e-6
        standardised = (features - self.mean) / self.scale
        target = np.array([present.index(label) for label in labels])
        # Balance classes so a workspace full of promoters still learns what a complaint is:
        # each class weighs n / (classes x its count), scikit-learn's "balanced".
        sample_weight = (len(labels) / (len(present) * np.bincount(target)))[target]
        self.trained_on = len(labels)
        if self.hidden > 0:
            self._fit_hidden(standardised, target, sample_weight)
        else:
            self._fit_logistic(standardised, target, sample_weight)
        return self

    def _fit_logistic(
        self,
        standardised: NDArray[np.float64],
        target: NDArray[np.int64],
        sample_weight: NDArray[np.float64],
    ) -> None:
        """scikit-learn's L2 logistic regression (lbfgs, to convergence) on the mean weighted
        cross-entropy plus ``l2`` / 2 times the squared weights, intercepts excluded. Its C
        multiplies the summed loss instead: C = 1 / (n x l2). With two classes scikit-learn
        fits one weight vector w where ours has two, -w/2 and w/2, which halves the penalty:
        C = 2 / (n x l2) is the same objective."""
        from sklearn.exceptions import ConvergenceWarning  # imported late: see themes.py
        from sklearn.linear_model import LogisticRegression

        two = len(self.classes) == 2
        model = LogisticRegression(
            C=(2.0 if two else 1.0) / (len(target) * self.l2), max_iter=self.iterations
        )
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # Hundreds of rows, so a few iterations short of lbfgs' tolerance still gives the
            # labels; the warning would only alarm whoever reads the log.
            warnings.simplefilter("ignore", ConvergenceWarning)
            # One BLAS/OpenMP thread: matrices this small gain nothing from a second, and on
            # a busy machine the threads spin. On 480 demo comments, two cores at load 14,
            # lbfgs took 0.16-1.1 s this way and 5.3-21 s with the default threads (same runs;
            # benchmarks/insight_numerics.py).
            model.fit(standardised, target, sample_weight=sample_weight)
        coefficients = np.vstack([model.coef_.T, model.intercept_])
        self.hidden_weights = None
        self.weights = np.hstack([-coefficients / 2, coefficients / 2]) if two else coefficients

    def _fit_hidden(
        self,
        standardised: NDArray[np.float64],
        target: NDArray[np.int64],
        sample_weight: NDArray[np.float64],
    ) -> None:
        networks = [
            self._fit_network(standardised, target, sample_weight, self.seed + member)
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
        standardised: NDArray[np.float64],
        target: NDArray[np.int64],
        sample_weight: NDArray[np.float64],
        seed: int,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """scikit-learn's ``MLPClassifier``: mini-batch Adam (step ``adam_rate``) for exactly
        ``epochs`` passes on the class-balanced cross-entropy plus ``l2`` / 2 times the squared
        weights. Its alpha is divided by the batch's summed sample weight, about the batch
        size here, hence alpha = l2 x batch size. Deterministic per seed. Returns the layers
        with the bias as the last row; a binary network's one logistic output becomes the
        logits (0, z), which give the same probabilities."""
        from sklearn.exceptions import ConvergenceWarning  # imported late: see themes.py
        from sklearn.neural_network import MLPClassifier

        batch_size = min(self.batch_size, len(target))
        network = MLPClassifier(
            hidden_layer_sizes=(self.hidden,),
            alpha=self.l2 * batch_size,
            batch_size=batch_size,
            learning_rate_init=self.adam_rate,
            max_iter=self.epochs,
            # Every pass runs: no stopping on a flat loss, as the epochs were chosen.
            n_iter_no_change=self.epochs + 1,
            tol=0.0,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # it ran its epochs, as asked
            network.fit(standardised, target, sample_weight=sample_weight)
        first = np.vstack([network.coefs_[0], network.intercepts_[0]])
        second = np.vstack([network.coefs_[1], network.intercepts_[1]])
        if second.shape[1] == 1:
            second = np.hstack([np.zeros_like(second), second])
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
