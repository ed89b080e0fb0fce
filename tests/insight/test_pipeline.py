from collections import Counter

from tillit.demo.feedback_comments import demo_feedback
from tillit.insight import FeedbackComment, analyse
from tillit.insight.embeddings import E5Embedder


def test_demo_feedback_covers_five_languages_and_eight_themes() -> None:
    comments = demo_feedback()
    assert len(comments) >= 400
    assert {c.language for c in comments} == {"en", "da", "sv", "nb", "nl"}
    assert len({c.theme for c in comments}) == 8
    assert all(0 <= c.nps <= 10 for c in comments)


def test_analyse_demo_batch_with_progress(e5: E5Embedder) -> None:
    demo = demo_feedback()[:160]
    comments = [FeedbackComment(c.comment_id, c.text, c.locale, nps=c.nps) for c in demo]
    progress: list[tuple[int, int]] = []
    result = analyse(
        comments,
        embedder=e5,
        theme_count=8,
        batch_size=64,
        calibrate=True,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert progress == [(64, 160), (128, 160), (160, 160)]
    language_accuracy = sum(
        i.language.language == c.language for i, c in zip(result.insights, demo, strict=True)
    ) / len(demo)
    assert language_accuracy >= 0.95
    assert result.calibrator is not None and result.calibrator.trained_on == 160
    truth = {c.comment_id: c.theme for c in demo}
    predicted = {i.comment_id: i.sentiment.label for i in result.insights}
    crashes = Counter(predicted[c.comment_id] for c in demo if truth[c.comment_id] == "app_crashes")
    assert crashes.most_common(1)[0][0] == "negative"
    assert sum(t.size for t in result.themes) == 160

    later = demo_feedback()[160:200]
    more = analyse(
        [FeedbackComment(c.comment_id, c.text, c.locale) for c in later],
        embedder=e5,
        themes=result.themes,
        theme_space=result.theme_space,
    )
    assert {t.theme_id for t in more.themes} == {t.theme_id for t in result.themes}
    assigned = [i for i in more.insights if i.theme_id is not None]
    assert len(assigned) >= 30
    assert sum(t.size for t in more.themes) == 160 + len(assigned)


def test_empty_batch(e5: E5Embedder) -> None:
    assert analyse([], embedder=e5).insights == []


def test_without_scores_the_shipped_head_labels_sentiment(e5: E5Embedder) -> None:
    comments = [
        FeedbackComment("1", "Elendig service, jeg er meget skuffet over leveringen.", "da-DK"),
        FeedbackComment("2", "Bedankt, de medewerker was ontzettend behulpzaam!", "nl-NL"),
    ]
    result = analyse(comments, embedder=e5, theme_count=1)
    assert result.calibrator is None
    assert [i.sentiment.label for i in result.insights] == ["negative", "positive"]
    assert all(i.sentiment.calibrated for i in result.insights)
    lexical = analyse(comments, embedder=e5, theme_count=1, sentiment_head=None)
    assert not any(i.sentiment.calibrated for i in lexical.insights)
