import numpy as np
import pytest

from tillit.insight import (
    ThemeComment,
    ThemeSpace,
    assign_to_themes,
    discover_themes,
    merge_themes,
    rename_theme,
    split_theme,
)
from tillit.insight.embeddings import E5Embedder
from tillit.insight.themes import choose_theme_count, silhouette, spherical_kmeans


def unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


LATE = [
    ("da", "Min pakke kom en uge for sent."),
    ("nl", "Mijn pakket werd een week te laat bezorgd."),
    ("sv", "Mitt paket kom en vecka för sent."),
    ("en", "My parcel arrived a week late."),
    ("nb", "Pakken min kom en uke for sent."),
]
CRASH = [
    ("da", "Appen crasher hver gang jeg vil betale."),
    ("nl", "De app crasht elke keer als ik wil betalen."),
    ("sv", "Appen kraschar varje gång jag ska betala."),
    ("en", "The app crashes every time I try to pay."),
    ("nb", "Appen krasjer hver gang jeg skal betale."),
]


def _comments(rows: list[tuple[str, str]], prefix: str) -> list[ThemeComment]:
    return [ThemeComment(f"{prefix}{i}", text, language) for i, (language, text) in enumerate(rows)]


def test_danish_and_dutch_late_delivery_share_a_theme(e5: E5Embedder) -> None:
    comments = _comments(LATE, "late-") + _comments(CRASH, "crash-")
    vectors = e5.embed([c.text for c in comments])
    space = ThemeSpace.fit(vectors, [c.language for c in comments])
    themes = discover_themes(
        comments, space.transform(vectors, [c.language for c in comments]), theme_count=2
    )
    theme_of = {member: theme.theme_id for theme in themes for member in theme.member_ids}
    assert len({theme_of[f"late-{i}"] for i in range(5)}) == 1
    assert len({theme_of[f"crash-{i}"] for i in range(5)}) == 1
    assert theme_of["late-0"] != theme_of["crash-0"]


def _two_clusters() -> tuple[list[ThemeComment], np.ndarray]:
    comments = [
        ThemeComment(f"c{i}", text, "en")
        for i, text in enumerate(
            [
                "late parcel",
                "parcel late again",
                "late delivery",
                "app crash",
                "crash in app",
                "app crash again",
            ]
        )
    ]
    vectors = unit(
        [1, 0.1, 0], [1, 0, 0.1], [0.9, 0.1, 0.1], [0, 1, 0.1], [0.1, 1, 0], [0, 0.9, 0.1]
    )
    return comments, vectors


def test_keywords_and_representatives_are_readable() -> None:
    comments, vectors = _two_clusters()
    themes = discover_themes(comments, vectors, theme_count=2)
    by_first = {t.member_ids[0]: t for t in themes}
    late = next(t for t in themes if "c0" in t.member_ids)
    assert "late" in late.keywords["en"] and "parcel" in late.keywords["en"]
    assert late.representatives[0] in {"late parcel", "parcel late again", "late delivery"}
    assert sum(t.size for t in by_first.values()) == 6


def test_new_comments_are_assigned_incrementally() -> None:
    comments, vectors = _two_clusters()
    themes = discover_themes(comments, vectors, theme_count=2)
    late_id = next(t.theme_id for t in themes if "c0" in t.member_ids)
    assignments = assign_to_themes(unit([1, 0.05, 0.05], [-1, -1, 0]), themes, min_similarity=0.5)
    assert assignments[0][0] == late_id
    assert assignments[1][0] is None


def test_rename_merge_and_split() -> None:
    comments, vectors = _two_clusters()
    first, second = discover_themes(comments, vectors, theme_count=2)
    renamed = rename_theme(first, "  Late delivery ")
    assert renamed.label == "Late delivery" and first.label != "Late delivery"
    with pytest.raises(ValueError):
        rename_theme(first, " ")
    merged = merge_themes(renamed, second, label="Everything")
    assert merged.size == 6 and merged.theme_id == first.theme_id
    assert np.linalg.norm(merged.centroid) == pytest.approx(1.0, abs=1e-5)
    parts = split_theme(merged, comments, vectors, parts=2)
    assert sorted(sorted(p.member_ids) for p in parts) == sorted(
        [sorted(first.member_ids), sorted(second.member_ids)]
    )
    assert {p.theme_id for p in parts} == {f"{first.theme_id}-1", f"{first.theme_id}-2"}


def test_greetings_and_filler_are_not_theme_keywords() -> None:
    """Customers open with "Hej," / "Hei," and write "de andre" in every theme; such words
    made labels like "hej · pakke · sent"."""
    rows = [
        ("da", "Hej, min pakke kom for sent, ligesom de andre pakker."),
        ("da", "Hej, pakke kom sent igen, de andre også."),
        ("nb", "Hei, pakken kom for sent, som de andre."),
        ("nb", "Hei, pakke kom sent igjen, de andre også."),
    ]
    comments = _comments(rows, "g")
    vectors = unit([1.0, 0.1], [1.0, 0.0], [0.9, 0.1], [1.0, 0.05])
    [theme] = discover_themes(comments, vectors, theme_count=1)
    words = {word for keywords in theme.keywords.values() for word in keywords}
    assert "pakke" in words or "pakken" in words
    assert not words & {"hej", "hei", "andre"}
    assert not {"hej", "hei", "andre"} & set(theme.label.split(" · "))


def test_silhouette_is_the_cosine_silhouette_computed_by_hand() -> None:
    # Cosine distances: a-b 0.4, a-c 1.0, b-c 0.2; c is alone in its cluster (scores 0).
    # s(a) = (1.0 - 0.4) / 1.0 = 0.6, s(b) = (0.2 - 0.4) / 0.4 = -0.5; mean 0.1 / 3.
    vectors = np.array([[2.0, 0.0], [0.6, 0.8], [0.0, 3.0]], dtype=np.float32)
    assert silhouette(vectors, np.array([0, 0, 1])) == pytest.approx(0.1 / 3, abs=1e-6)
    assert silhouette(vectors, np.array([0, 0, 0])) == -1.0  # nothing to compare with
    assert silhouette(vectors, np.array([0, 1, 2])) == 0.0  # every comment alone


def test_kmeans_finds_directions_and_repeated_texts_are_no_error() -> None:
    rng = np.random.default_rng(5)
    directions = np.eye(3, dtype=np.float32)
    vectors = np.vstack([d + rng.normal(0, 0.1, (20, 3)) for d in directions]).astype(np.float32)
    # Length does not matter, only direction: scale half the rows.
    vectors[::2] *= 5.0
    assignment = spherical_kmeans(vectors, 3, seed=1)
    assert [len(set(assignment[i * 20 : (i + 1) * 20])) for i in range(3)] == [1, 1, 1]
    assert np.array_equal(assignment, spherical_kmeans(vectors, 3, seed=1))
    assert choose_theme_count(vectors) == 3
    # Two distinct texts asked for three themes: two clusters, no warning (errors in tests).
    repeated = np.array([[1.0, 0.0, 0.0]] * 4 + [[0.0, 1.0, 0.0]] * 4, dtype=np.float32)
    assert len(set(spherical_kmeans(repeated, 3))) == 2
