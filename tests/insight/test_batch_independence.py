"""A comment's language, sentiment label and score do not depend on the batch it arrives in."""

from __future__ import annotations

import random

from tillit.demo.feedback_comments import demo_feedback
from tillit.insight import FeedbackComment, analyse
from tillit.insight.embeddings import E5Embedder


def _signature(result) -> dict[str, tuple[str, str, float]]:
    return {
        i.comment_id: (i.language.language, i.sentiment.label, i.sentiment.score)
        for i in result.insights
    }


def test_labels_and_scores_are_the_same_alone_and_in_mixed_batches() -> None:
    demo = demo_feedback()
    rng = random.Random(22)
    distinct = list({c.text: c for c in demo}.values())
    picked = rng.sample(distinct, 36)
    comments = [FeedbackComment(c.comment_id, c.text, c.locale, nps=c.nps) for c in picked]
    comments += [
        FeedbackComment("short-1", "Ok", None),
        FeedbackComment("short-2", "Takk!", "nb-NO"),
        FeedbackComment("long-1", "Pakken kom for sent, og ingen svarte. " * 20, "da-DK"),
    ]
    assert len({c.text for c in comments}) == len(comments)

    # A fresh embedder for each call: no vector is reused from a cache between batches.
    alone: dict[str, tuple[str, str, float]] = {}
    for comment in comments:
        alone |= _signature(analyse([comment], embedder=E5Embedder(), theme_count=1))
    mixed = _signature(analyse(comments, embedder=E5Embedder(), theme_count=3))
    shuffled = list(comments)
    rng.shuffle(shuffled)
    others = [FeedbackComment(f"o{c.comment_id}", c.text, c.locale) for c in demo[:40]]
    in_company = _signature(analyse(others + shuffled, embedder=E5Embedder(), theme_count=4))

    assert mixed == alone
    assert {key: in_company[key] for key in alone} == alone
    # Not a vacuous comparison: the comments cover every label and several languages.
    assert {label for _, label, _ in alone.values()} == {"negative", "neutral", "positive"}
    assert {"en", "da", "sv", "nb", "nl"} <= {language for language, _, _ in alone.values()}


def test_scored_comments_do_not_change_the_stored_sentiment(e5: E5Embedder) -> None:
    """NPS/CSAT on some comments of a batch used to fit a calibrator that relabelled the rest;
    by default the shipped head labels every comment the same with or without scores."""
    demo = demo_feedback()[:60]
    scored = [FeedbackComment(c.comment_id, c.text, c.locale, nps=c.nps) for c in demo]
    unscored = [FeedbackComment(c.comment_id, c.text, c.locale) for c in demo]
    with_scores = analyse(scored, embedder=e5, theme_count=2)
    assert with_scores.calibrator is None
    assert _signature(with_scores) == _signature(analyse(unscored, embedder=e5, theme_count=2))
