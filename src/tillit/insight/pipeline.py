"""``analyse``: language, sentiment and theme for a batch of comments, in one pass.

Embedding is the expensive step, so comments are embedded once, in batches, and the
vectors feed both the sentiment calibrator and the themes. A ``progress`` callback gets
``(done, total)`` after each batch so a CLI can draw a progress bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tillit.insight.embeddings import Embedder, default_embedder
from tillit.insight.languages import SUPPORTED_LANGUAGES, LanguageGuess, detect_language
from tillit.insight.router import ThemeRouter
from tillit.insight.sentiment import (
    SentimentCalibrator,
    SentimentResult,
    default_sentiment_head,
    label_from_csat,
    label_from_nps,
    score_sentiment,
    sentiment_features,
)
from tillit.insight.themes import (
    Theme,
    ThemeComment,
    ThemeSpace,
    absorb_comments,
    assign_to_themes,
    discover_themes,
)

ProgressCallback = Callable[[int, int], None]

# Fewer scored comments than this and the calibrator would mostly learn noise.
MIN_SCORED_FOR_CALIBRATION = 30


@dataclass(frozen=True)
class FeedbackComment:
    comment_id: str
    text: str
    locale: str | None = None
    nps: int | None = None
    csat: int | None = None
    created_at: datetime | None = None
    # The channel's country (ISO 3166-1 alpha-2) and the languages of the same customer's
    # earlier comments: with ``locale``, the prior of the language identification.
    country: str | None = None
    earlier_languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommentInsight:
    comment_id: str
    language: LanguageGuess
    sentiment: SentimentResult
    theme_id: str | None
    theme_similarity: float


@dataclass
class AnalysisResult:
    insights: list[CommentInsight]
    themes: list[Theme]
    theme_space: ThemeSpace | None
    calibrator: SentimentCalibrator | None = None
    vectors: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))


def _weak_label(comment: FeedbackComment) -> str | None:
    if comment.nps is not None:
        return label_from_nps(comment.nps)
    if comment.csat is not None:
        return label_from_csat(comment.csat)
    return None


def identify_languages(
    comments: Sequence[FeedbackComment], languages: Sequence[str]
) -> list[LanguageGuess]:
    """Each comment's language from its text and everything known about its writer."""
    return [
        detect_language(
            c.text,
            languages=languages,
            locale=c.locale,
            country=c.country,
            earlier=c.earlier_languages,
        )
        for c in comments
    ]


# Texts per call to the embedder. The ONNX encoder sorts a call's texts by length and runs
# them in padded runs of up to 16 (e5_onnx.MAX_BATCH): larger calls pad less
# (benchmarks/insight_throughput.py's comments, 2 cores: 16 a call ~200-260/s, 64
# ~250-315/s), and the progress bar still moves.
EMBED_BATCH = 64


def embed_in_batches(
    texts: Sequence[str], *, embedder: Embedder, batch_size: int, progress: ProgressCallback | None
) -> NDArray[np.float32]:
    parts = []
    for start in range(0, len(texts), batch_size):
        parts.append(embedder.embed(texts[start : start + batch_size]))
        if progress is not None:
            progress(min(start + batch_size, len(texts)), len(texts))
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), np.float32)


def comment_sentiments(
    texts: Sequence[str],
    codes: Sequence[str],
    vectors: NDArray[np.float32],
    head: SentimentCalibrator | None,
) -> list[SentimentResult]:
    """The one sentiment of each comment: the shipped head over the comment's own e5 vector
    and lexicon features (the lexicon's hits explain it), or the lexicon alone when ``head``
    is None. Row by row, so a comment's label never depends on its batch."""
    lexical = [score_sentiment(t, language=code) for t, code in zip(texts, codes, strict=True)]
    if head is None or not texts:
        return lexical
    return head.predict(sentiment_features(vectors, texts, codes), lexical)


def _workspace_calibrated(
    comments: Sequence[FeedbackComment],
    features: NDArray[np.float64],
    lexical: list[SentimentResult],
) -> tuple[list[SentimentResult], SentimentCalibrator] | None:
    """Opt-in (``calibrate=True``): a calibrator fitted on this batch's scored comments. Its
    labels depend on the batch by construction, so nothing that stores sentiment uses it."""
    labelled = [(i, label) for i, c in enumerate(comments) if (label := _weak_label(c)) is not None]
    if len(labelled) < MIN_SCORED_FOR_CALIBRATION or len({lb for _, lb in labelled}) < 2:
        return None
    rows = [i for i, _ in labelled]
    calibrator = SentimentCalibrator().fit(features[rows], [label for _, label in labelled])
    return calibrator.predict(features, lexical), calibrator


def _sentiments(
    comments: Sequence[FeedbackComment],
    codes: Sequence[str],
    vectors: NDArray[np.float32],
    head: SentimentCalibrator | None,
    *,
    calibrate: bool,
) -> tuple[list[SentimentResult], SentimentCalibrator | None]:
    texts = [c.text for c in comments]
    if calibrate and comments:
        lexical = [score_sentiment(t, language=code) for t, code in zip(texts, codes, strict=True)]
        fitted = _workspace_calibrated(comments, sentiment_features(vectors, texts, codes), lexical)
        if fitted is not None:
            return fitted
    return comment_sentiments(texts, codes, vectors, head), None


def analyse(
    comments: Sequence[FeedbackComment],
    *,
    languages: Sequence[str] = SUPPORTED_LANGUAGES,
    themes: Sequence[Theme] | None = None,
    theme_space: ThemeSpace | None = None,
    theme_count: int | None = None,
    calibrate: bool = False,
    embedder: Embedder | None = None,
    batch_size: int = EMBED_BATCH,
    progress: ProgressCallback | None = None,
    router: ThemeRouter | None = None,
    sentiment_head: SentimentCalibrator | Literal["default"] | None = "default",
) -> AnalysisResult:
    """Language, sentiment and theme per comment.

    Without ``themes`` the batch's themes are discovered; with ``themes`` (and the
    ``theme_space`` they were built in) new comments are assigned incrementally and the
    themes' centroids move to include them. Sentiment is ``sentiment_head`` (the shipped e5 +
    lexicon model unless given, ``None`` for the lexicon alone) for every comment, wherever
    it is analysed (``comment_sentiments``). ``calibrate=True`` instead fits a calibrator
    on the batch's scored comments (NPS/CSAT) when there are enough: an experiment whose
    labels depend on the batch, which no storing path uses. With ``router`` as well, the
    router assigns the themes it is confident about (see ``analyse_routed``).
    """
    if router is not None and themes is not None:
        if theme_space is None:
            raise ValueError("assigning to existing themes needs the ThemeSpace they were built in")
        return analyse_routed(
            comments,
            languages=languages,
            themes=themes,
            theme_space=theme_space,
            router=router,
            calibrate=calibrate,
            embedder=embedder,
            batch_size=batch_size,
            progress=progress,
            sentiment_head=sentiment_head,
        )
    head = default_sentiment_head() if sentiment_head == "default" else sentiment_head
    embedder = embedder or default_embedder()
    guesses = identify_languages(comments, languages)
    codes = [guess.best_guess for guess in guesses]
    vectors = embed_in_batches(
        [c.text for c in comments], embedder=embedder, batch_size=batch_size, progress=progress
    )
    sentiments, calibrator = _sentiments(comments, codes, vectors, head, calibrate=calibrate)
    if not comments:
        return AnalysisResult([], list(themes or []), theme_space, calibrator, vectors)
    theme_comments = [
        ThemeComment(c.comment_id, c.text, code) for c, code in zip(comments, codes, strict=True)
    ]
    if themes is None:
        theme_space = ThemeSpace.fit(vectors, codes)
        spaced = theme_space.transform(vectors, codes)
        current = discover_themes(theme_comments, spaced, theme_count=theme_count)
        member_of = {member: t.theme_id for t in current for member in t.member_ids}
        centroids = {t.theme_id: t.centroid for t in current}
        assignments: list[tuple[str | None, float]] = [
            (member_of[c.comment_id], float(spaced[i] @ centroids[member_of[c.comment_id]]))
            for i, c in enumerate(comments)
        ]
    else:
        if theme_space is None:
            raise ValueError("assigning to existing themes needs the ThemeSpace they were built in")
        spaced = theme_space.transform(vectors, codes)
        assignments = assign_to_themes(spaced, themes)
        current = [
            absorb_comments(
                theme,
                [
                    c.comment_id
                    for c, (tid, _) in zip(comments, assignments, strict=True)
                    if tid == theme.theme_id
                ],
                spaced[[i for i, (tid, _) in enumerate(assignments) if tid == theme.theme_id]],
            )
            for theme in themes
        ]
    insights = [
        CommentInsight(c.comment_id, guess, sentiment, theme_id, round(similarity, 4))
        for c, guess, sentiment, (theme_id, similarity) in zip(
            comments, guesses, sentiments, assignments, strict=True
        )
    ]
    return AnalysisResult(insights, current, theme_space, calibrator, vectors)


def analyse_routed(
    comments: Sequence[FeedbackComment],
    *,
    languages: Sequence[str],
    themes: Sequence[Theme],
    theme_space: ThemeSpace,
    router: ThemeRouter,
    calibrate: bool = False,
    embedder: Embedder | None = None,
    batch_size: int = EMBED_BATCH,
    progress: ProgressCallback | None = None,
    sentiment_head: SentimentCalibrator | Literal["default"] | None = "default",
) -> AnalysisResult:
    """Assignment to existing themes: the router assigns the comments it is confident
    about without moving their theme's centroid; the unsure rest are assigned by e5 and move
    it as in ``analyse``. Every comment is still embedded, because its sentiment is the
    shipped head's over its own vector (one sentiment path); ``vectors`` holds them all.
    """
    head = default_sentiment_head() if sentiment_head == "default" else sentiment_head
    guesses = identify_languages(comments, languages)
    codes = [guess.best_guess for guess in guesses]
    texts = [c.text for c in comments]
    routed = router.predict(texts, codes)
    known = {theme.theme_id for theme in themes}
    # A theme merged away or split since the router was trained: let e5 decide.
    unsure = [
        i
        for i, (theme_id, p) in enumerate(routed)
        if p < router.min_confidence or (theme_id is not None and theme_id not in known)
    ]
    vectors = embed_in_batches(
        texts, embedder=embedder or default_embedder(), batch_size=batch_size, progress=progress
    )
    assignments: list[tuple[str | None, float]] = list(routed)
    spaced = theme_space.transform(vectors[unsure], [codes[i] for i in unsure])
    for i, assignment in zip(unsure, assign_to_themes(spaced, themes), strict=True):
        assignments[i] = assignment
    sentiments, calibrator = _sentiments(comments, codes, vectors, head, calibrate=calibrate)
    embedded_position = {index: row for row, index in enumerate(unsure)}
    current = []
    for theme in themes:
        members = [i for i, (tid, _) in enumerate(assignments) if tid == theme.theme_id]
        embedded = [i for i in members if i in embedded_position]
        moved = absorb_comments(
            theme,
            [comments[i].comment_id for i in embedded],
            spaced[[embedded_position[i] for i in embedded]],
        )
        routed_ids = tuple(comments[i].comment_id for i in members if i not in embedded_position)
        current.append(replace(moved, member_ids=moved.member_ids + routed_ids))
    insights = [
        CommentInsight(c.comment_id, guess, sentiment, theme_id, round(similarity, 4))
        for c, guess, sentiment, (theme_id, similarity) in zip(
            comments, guesses, sentiments, assignments, strict=True
        )
    ]
    return AnalysisResult(insights, current, theme_space, calibrator, vectors)
