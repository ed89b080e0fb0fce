"""A cheap theme router: hashed character n-grams → theme, trained against the e5 themes.

The e5 encoder is > 95 % of the pipeline's time, and on two shared cores it does about
40-140 short comments/s. Most new comments in a steady state look like comments the
themes were built from, so a linear model over hashed word and character n-grams,
trained on the embedding's own assignments, can route them without embedding them.
Comments it is unsure about (top probability below ``min_confidence``) fall back to the
embedding path, so the router only ever replaces the model where it agrees with it.

The model is scikit-learn's multinomial ``LogisticRegression`` (lbfgs) on a sparse matrix.
Features are stable across processes (CRC32, not Python's salted ``hash``), so a router
is stored as plain arrays (npz, no pickle) and loaded later, in another process.
"""

from __future__ import annotations

import io
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_limits

from tillit.insight.sentiment import tokenize

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

DIMENSION = 1 << 13
CHAR_NGRAMS = (3, 4)
# Below this top probability the comment goes to the embedding path instead.
DEFAULT_MIN_CONFIDENCE = 0.6
# The "no theme" class: comments the embedding left below the similarity threshold.
UNASSIGNED = ""
# Features are sparse (a few hundred non-zeros a row), so the cap bounds lbfgs' time rather
# than memory: 10,000 demo comments took 4.2 s and 49 MB more peak memory on two busy cores
# (3,000: 2.4 s and 30 MB; the dense gradient descent before took 41 s and 187 MB for 3,000).
MAX_TRAINING_ROWS = 10_000
# The L2 penalty on the mean cross-entropy. Chosen on demo sentences 0-2 vs 3, as the old
# gradient descent's rate was (never 4-5, the throughput benchmark's unseen set; see
# benchmarks/insight_numerics.py --router-only): 1e-4 routed 42.5 % at p >= 0.6 with 88.2 %
# agreeing with e5, as the old router did; 3e-4 routed 21 % (77 %), 3e-5 53 % (86 %).
DEFAULT_L2 = 1e-4


def _features_of(text: str, language: str) -> list[int]:
    buckets = []
    for word in tokenize(text.lower()):
        buckets.append(zlib.crc32(f"w:{language}:{word}".encode()))
        padded = f"<{word}>"
        for n in CHAR_NGRAMS:
            buckets.extend(
                zlib.crc32(f"{n}:{padded[i : i + n]}".encode()) for i in range(len(padded) - n + 1)
            )
    return [bucket % DIMENSION for bucket in buckets]


def hashed_features(texts: Sequence[str], languages: Sequence[str]) -> csr_matrix:
    """L2-normalised bag of hashed words (per language) and character 3-4-grams, as a sparse
    (texts x DIMENSION) float32 matrix."""
    from sklearn.preprocessing import normalize  # imported late: see themes.py

    indices: list[int] = []
    indptr = [0]
    for text, language in zip(texts, languages, strict=True):
        indices.extend(_features_of(text, language))
        indptr.append(len(indices))
    counts = csr_matrix(
        (np.ones(len(indices), np.float32), np.array(indices, np.int32), np.array(indptr)),
        shape=(len(texts), DIMENSION),
    )
    counts.sum_duplicates()
    # Sublinear term frequency, then unit length: long comments don't dominate.
    np.log1p(counts.data, out=counts.data)
    normalised: csr_matrix = normalize(counts, copy=False)
    return normalised


@dataclass(frozen=True, eq=False)
class ThemeRouter:
    """Multinomial logistic regression from hashed features to theme ids.

    ``coefficients`` and ``intercepts`` are scikit-learn's ``coef_`` and ``intercept_``:
    one row per theme id, or a single row for two (the second id's log-odds)."""

    theme_ids: tuple[str, ...]
    coefficients: NDArray[np.float32]  # (len(theme_ids), DIMENSION), or (1, DIMENSION) for two
    intercepts: NDArray[np.float32]  # (len(coefficients),)
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        languages: Sequence[str],
        theme_ids: Sequence[str | None],
        *,
        l2: float = DEFAULT_L2,
        max_iter: int = 200,
        seed: int = 0,
    ) -> ThemeRouter:
        """Fit on the embedding's assignments (None: no theme). Deterministic: the same
        input gives the same router (the subsample of ``MAX_TRAINING_ROWS`` is seeded and
        lbfgs draws nothing at random)."""
        from sklearn.exceptions import ConvergenceWarning  # imported late: see themes.py
        from sklearn.linear_model import LogisticRegression

        if not len(texts) == len(languages) == len(theme_ids):
            raise ValueError(
                f"{len(texts)} texts, {len(languages)} languages and {len(theme_ids)} theme ids"
            )
        labels = [theme_id or UNASSIGNED for theme_id in theme_ids]
        rows = list(range(len(labels)))
        if len(rows) > MAX_TRAINING_ROWS:
            picked = np.random.default_rng(seed).choice(len(rows), MAX_TRAINING_ROWS, replace=False)
            rows = sorted(int(i) for i in picked)
        if len({labels[i] for i in rows}) < 2:
            raise ValueError("a router needs comments from at least two themes")
        features = hashed_features([texts[i] for i in rows], [languages[i] for i in rows])
        # scikit-learn's C multiplies the summed loss where l2 weighs the mean.
        model = LogisticRegression(C=1.0 / (len(rows) * l2), max_iter=max_iter, random_state=seed)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # A few iterations short of lbfgs' tolerance still gives the same themes; the
            # warning would only alarm whoever reads the log. One BLAS/OpenMP thread: see
            # SentimentCalibrator.fit.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, np.array([labels[i] for i in rows]))
        return cls(
            tuple(str(label) for label in model.classes_),
            model.coef_.astype(np.float32),
            model.intercept_.astype(np.float32),
        )

    @cached_property
    def _model(self) -> LogisticRegression:
        """The fitted scikit-learn model, rebuilt from the stored arrays."""
        from sklearn.linear_model import LogisticRegression  # imported late: see themes.py

        model = LogisticRegression()
        model.classes_ = np.array(self.theme_ids)
        model.coef_ = self.coefficients
        model.intercept_ = self.intercepts
        model.n_features_in_ = DIMENSION
        return model

    def predict(
        self, texts: Sequence[str], languages: Sequence[str]
    ) -> list[tuple[str | None, float]]:
        """(theme id, probability) per text; theme id None for "no theme"."""
        if not texts:
            return []
        probabilities = self._model.predict_proba(hashed_features(texts, languages))
        best = np.argmax(probabilities, axis=1)
        return [(self.theme_ids[b] or None, float(probabilities[i, b])) for i, b in enumerate(best)]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            theme_ids=np.array(self.theme_ids),
            # float16 halves the stored size; routing is unaffected.
            coefficients=self.coefficients.astype(np.float16),
            intercepts=self.intercepts.astype(np.float16),
            min_confidence=np.array(self.min_confidence),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ThemeRouter:
        """A stored router; also one stored before the switch to scikit-learn (``weights``:
        the same features, one column per theme id and the bias as the last row)."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            theme_ids = tuple(str(t) for t in stored["theme_ids"])
            if "weights" in stored:
                coefficients, intercepts = _from_softmax_weights(stored["weights"])
            else:
                coefficients, intercepts = stored["coefficients"], stored["intercepts"]
            return cls(
                theme_ids,
                coefficients.astype(np.float32),
                intercepts.astype(np.float32),
                float(stored["min_confidence"]),
            )


def _from_softmax_weights(
    weights: NDArray[np.floating],
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """(coef_, intercept_) giving the same probabilities as softmax(x @ W[:-1] + W[-1]).
    Two classes: the softmax of two logits is the logistic of their difference."""
    if weights.shape[1] == 2:
        difference = weights[:, 1:] - weights[:, :1]
        return difference[:-1].T, difference[-1]
    return weights[:-1].T, weights[-1]
