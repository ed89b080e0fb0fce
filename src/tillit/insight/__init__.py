"""Feedback insight in five languages (en, da, sv, nb, nl): pure domain logic, no I/O.

Public surface::

    detect_language      language + confidence, locale as a prior
    score_sentiment      lexicon sentiment with the phrases behind it
    SentimentCalibrator  fitted on a workspace's NPS/CSAT-scored comments
    discover_themes, assign_to_themes, rename_theme, merge_themes, split_theme
    theme_trends, detect_alerts, find_unspoken_needs
    analyse              the batch pipeline

Errors: ``UnsupportedLanguageError`` and ``CalibrationError`` (both ``ValueError``).
"""

from tillit.insight.languages import (
    SUPPORTED_LANGUAGES,
    LanguageGuess,
    UnsupportedLanguageError,
    detect_language,
)
from tillit.insight.pipeline import AnalysisResult, CommentInsight, FeedbackComment, analyse
from tillit.insight.sentiment import (
    CalibrationError,
    SentimentCalibrator,
    SentimentResult,
    label_from_csat,
    label_from_nps,
    score_sentiment,
)
from tillit.insight.themes import (
    Theme,
    ThemeComment,
    ThemeSpace,
    assign_to_themes,
    discover_themes,
    merge_themes,
    rename_theme,
    split_theme,
)
from tillit.insight.trends import (
    ThemeAlert,
    ThemeObservation,
    UnspokenNeed,
    detect_alerts,
    find_unspoken_needs,
    theme_trends,
)

__all__ = [
    "SUPPORTED_LANGUAGES",
    "AnalysisResult",
    "CalibrationError",
    "CommentInsight",
    "FeedbackComment",
    "LanguageGuess",
    "SentimentCalibrator",
    "SentimentResult",
    "Theme",
    "ThemeAlert",
    "ThemeComment",
    "ThemeObservation",
    "ThemeSpace",
    "UnspokenNeed",
    "UnsupportedLanguageError",
    "analyse",
    "assign_to_themes",
    "detect_alerts",
    "detect_language",
    "discover_themes",
    "find_unspoken_needs",
    "label_from_csat",
    "label_from_nps",
    "merge_themes",
    "rename_theme",
    "score_sentiment",
    "split_theme",
    "theme_trends",
]
