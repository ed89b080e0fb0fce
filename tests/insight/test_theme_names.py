"""Themes are named in plain words in every staff language, never by keyword triples or ids."""

from __future__ import annotations

import numpy as np

from tillit.demo.feedback_comments import _BASE
from tillit.insight.theme_names import STAFF_LANGUAGES, subjects_of
from tillit.insight.themes import ThemeComment, build_themes


def _demo_by_true_theme() -> tuple[list[ThemeComment], list[str], np.ndarray]:
    comments, truth = [], []
    for key, (_nps, by_language) in _BASE.items():
        for language, sentences in by_language.items():
            for sentence in sentences:
                comments.append(ThemeComment(str(len(comments)), sentence, language))
                truth.append(key)
    keys = list(_BASE)
    return comments, keys, np.array([keys.index(t) for t in truth])


def test_the_demo_themes_get_plain_names_in_five_languages() -> None:
    comments, keys, assignment = _demo_by_true_theme()
    vectors = np.random.default_rng(0).normal(size=(len(comments), 8)).astype(np.float32)
    themes = build_themes(comments, vectors, assignment)
    names = {key: theme.names for key, theme in zip(keys, themes, strict=True)}
    assert names["late_delivery"]["en"] == "Delivery and delays"
    assert names["late_delivery"]["da"] == "Levering og forsinkelser"
    assert names["price"] == {"en": "Prices", "da": "Priser", "sv": "Priser", "nb": "Priser",
                              "nl": "Prijzen"}  # fmt: skip
    assert names["app_crashes"]["en"] == "The app"
    assert names["refund"]["nl"] == "Terugbetaling en retour"
    assert names["product_quality"]["sv"] == "Produktkvalitet"
    assert names["opening_hours"]["nb"] == "Åpningstider"
    assert names["great_service"]["en"] == "Friendly, helpful service"
    assert "Rude treatment" in names["rude_staff"]["en"]
    for theme in themes:
        assert set(theme.names) == set(STAFF_LANGUAGES)
        assert theme.label == theme.names["en"]
        assert "·" not in theme.label and "theme-" not in theme.label
    assert len({t.label for t in themes}) == len(themes)


def test_a_theme_no_subject_fits_is_named_by_its_words_quoted() -> None:
    texts = ["the blue widget wobbles", "widget wobbles when blue", "blue widget again wobbles"]
    others = ["zebra stripes fade", "stripes on the zebra fade", "fading zebra stripes"]
    comments = [ThemeComment(str(i), t, "en") for i, t in enumerate(texts + others)]
    vectors = np.eye(6, dtype=np.float32)
    themes = build_themes(comments, vectors, np.array([0, 0, 0, 1, 1, 1]))
    first = themes[0]
    assert first.label.startswith('Comments mentioning "')
    assert any(word in first.label for word in ("widget", "wobbles", "blue"))
    assert first.names["da"].startswith('Kommentarer om "')


def test_two_themes_with_one_subject_are_told_apart() -> None:
    texts = [
        "my parcel is late, the blender parcel",
        "parcel late with the blender",
        "late parcel blender",
        "the parcel was late, the jacket",
        "late parcel and the jacket",
        "jacket parcel late",
    ]
    comments = [ThemeComment(str(i), t, "en") for i, t in enumerate(texts)]
    themes = build_themes(comments, np.eye(6, dtype=np.float32), np.array([0, 0, 0, 1, 1, 1]))
    labels = [t.label for t in themes]
    assert labels[0] != labels[1]
    assert all(label.startswith("Delivery and delays (") for label in labels)


def test_subjects_are_read_in_the_comment_s_language() -> None:
    assert "delays" in subjects_of("Min pakke kom en uge for sent.", "da")
    assert "delays" not in subjects_of("I sent it back.", "en")  # "sent" is late only in Nordic
    assert "app" not in subjects_of("I will apply again.", "en")
    assert "prices" in subjects_of("Fragtprisen er latterlig.", "da")  # inside a compound
    assert "prices" not in subjects_of("De levering duurde lang.", "nl")  # "took", not "dear"
