import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tillit.demo.feedback_comments import demo_feedback
from tillit.insight import FeedbackComment, analyse
from tillit.insight.embeddings import E5Embedder
from tillit.insight.router import DIMENSION, ThemeRouter, hashed_features

DATA = Path(__file__).parent / "data"
TEXTS = [
    "Pakken kom for sent",
    "Levering tog en uge",
    "Leveransen var sen",
    "The parcel was late",
    "Fin kundeservice",
    "Great support team",
    "Kundtjänsten var snäll",
    "Helpful staff",
    "ok",
    "hmm",
    "asdf",
    "nothing to add",
]
LANGUAGES = ["da", "da", "sv", "en", "da", "en", "sv", "en", "en", "en", "en", "en"]
THEMES = ["delivery"] * 4 + ["support"] * 4 + [None] * 4
PROBES = (["Pakken var sen", "Great staff", "asdf hmm"], ["da", "en", "en"])


def test_hashed_features_are_sparse_stable_and_unit_length() -> None:
    first = hashed_features(["Pakken kom for sent", ""], ["da", "da"])
    second = hashed_features(["Pakken kom for sent", ""], ["da", "da"])
    assert first.shape == (2, DIMENSION) and first.dtype == np.float32
    assert 0 < first.nnz < 100  # sparse: words and 3-4-grams of one short sentence
    assert (first != second).nnz == 0
    lengths = np.asarray(first.multiply(first).sum(axis=1)).ravel()
    assert abs(lengths[0] - 1.0) < 1e-5 and lengths[1] == 0.0  # an empty text stays zero


def _in_another_process(code: str) -> object:
    """Run ``code`` (which prints JSON) in a fresh interpreter with another hash seed."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    return json.loads(done.stdout)


def test_features_and_a_stored_router_are_the_same_in_another_process(tmp_path: Path) -> None:
    router = ThemeRouter.train(TEXTS, LANGUAGES, THEMES)
    stored = tmp_path / "router.npz"
    stored.write_bytes(router.to_bytes())
    features = hashed_features(*PROBES)
    there = _in_another_process(
        "import json, pathlib\n"
        "from tillit.insight.router import ThemeRouter, hashed_features\n"
        f"probes = {PROBES!r}\n"
        f"router = ThemeRouter.from_bytes(pathlib.Path({str(stored)!r}).read_bytes())\n"
        "features = hashed_features(*probes)\n"
        "print(json.dumps({'indices': features.indices.tolist(), "
        "'predicted': router.predict(*probes)}))"
    )
    assert isinstance(there, dict)
    assert there["indices"] == features.indices.tolist()
    here = ThemeRouter.from_bytes(router.to_bytes()).predict(*PROBES)
    assert [tuple(p) for p in there["predicted"]] == here
    assert [theme for theme, _ in here] == ["delivery", "support", None]


def test_the_same_input_gives_the_same_router() -> None:
    first = ThemeRouter.train(TEXTS, LANGUAGES, THEMES)
    second = ThemeRouter.train(TEXTS, LANGUAGES, THEMES)
    assert first.to_bytes() == second.to_bytes()
    assert first.theme_ids == ("", "delivery", "support")  # "" is the unassigned class
    assert first.coefficients.shape == (3, DIMENSION)


def test_two_themes_predict_both_and_survive_storage() -> None:
    router = ThemeRouter.train(
        TEXTS[:4] + TEXTS[8:], LANGUAGES[:4] + LANGUAGES[8:], THEMES[:4] + THEMES[8:]
    )
    assert router.theme_ids == ("", "delivery") and router.coefficients.shape == (1, DIMENSION)
    loaded = ThemeRouter.from_bytes(router.to_bytes())
    predicted = loaded.predict(["Pakken var sen", "asdf hmm"], ["da", "en"])
    assert [theme for theme, _ in predicted] == ["delivery", None]
    assert all(0.5 < p <= 1.0 for _, p in predicted)
    assert loaded.predict([], []) == []


def test_min_confidence_is_stored() -> None:
    router = ThemeRouter.train(TEXTS, LANGUAGES, THEMES)
    lower = ThemeRouter(router.theme_ids, router.coefficients, router.intercepts, 0.4)
    assert ThemeRouter.from_bytes(lower.to_bytes()).min_confidence == 0.4


def test_bad_training_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two themes"):
        ThemeRouter.train(TEXTS[:4], LANGUAGES[:4], THEMES[:4])
    with pytest.raises(ValueError, match="12 texts, 11 languages and 12 theme ids"):
        ThemeRouter.train(TEXTS, LANGUAGES[:-1], THEMES)


@pytest.mark.parametrize(
    ("stored", "probes", "expected"),
    [
        # Made by the gradient-descent router before scikit-learn (commit fb3b243), from
        # TEXTS/LANGUAGES/THEMES, and its predictions then, loaded by that code.
        (
            "router-gradient-descent.npz",
            PROBES,
            [("delivery", 0.97852695), ("support", 0.98986012), (None, 0.99955422)],
        ),
        (
            "router-gradient-descent-two-themes.npz",
            (["Pakken var sen", "asdf hmm"], ["da", "en"]),
            [("delivery", 0.99361575), (None, 0.99976856)],
        ),
    ],
)
def test_a_router_stored_before_scikit_learn_routes_as_it_did(
    stored: str, probes: tuple[list[str], list[str]], expected: list[tuple[str | None, float]]
) -> None:
    router = ThemeRouter.from_bytes((DATA / stored).read_bytes())
    predicted = router.predict(*probes)
    assert [theme for theme, _ in predicted] == [theme for theme, _ in expected]
    assert np.allclose([p for _, p in predicted], [p for _, p in expected], atol=1e-6)


def test_router_round_trips_falls_back_to_e5_and_keeps_the_one_sentiment(e5: E5Embedder) -> None:
    demo = [FeedbackComment(c.comment_id, c.text, c.locale, nps=c.nps) for c in demo_feedback()]
    built = analyse(demo[:300], embedder=e5, theme_count=8, calibrate=False)
    assert built.theme_space is not None
    codes = [i.language.language for i in built.insights]
    router = ThemeRouter.train(
        [c.text for c in demo[:300]], codes, [i.theme_id for i in built.insights]
    )
    router = ThemeRouter.from_bytes(router.to_bytes())

    later = demo[300:360]
    routed = analyse(
        later, embedder=e5, themes=built.themes, theme_space=built.theme_space, router=router
    )
    plain = analyse(later, embedder=e5, themes=built.themes, theme_space=built.theme_space)
    # Some comments are routed, the unsure rest assigned by e5; every comment is embedded,
    # because its sentiment is the shipped head's over its own vector, as without a router.
    confident = [
        p >= router.min_confidence
        for _, p in router.predict(
            [c.text for c in later], [i.language.language for i in routed.insights]
        )
    ]
    assert 0 < sum(confident) < len(later)
    assert len(routed.vectors) == len(later)
    assert [(i.sentiment.label, i.sentiment.score) for i in routed.insights] == [
        (i.sentiment.label, i.sentiment.score) for i in plain.insights
    ]
    same = sum(
        a.theme_id == b.theme_id for a, b in zip(routed.insights, plain.insights, strict=True)
    )
    assert same / len(later) >= 0.9
    assert sum(t.size for t in routed.themes) >= 300


def test_embedder_caches_identical_texts(e5: E5Embedder) -> None:
    vectors = e5.embed(["Tak for hjælpen!", "Tak for hjælpen!", "Bedankt!"])
    assert (vectors[0] == vectors[1]).all() and vectors.shape == (3, 384)
