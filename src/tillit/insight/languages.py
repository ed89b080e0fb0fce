"""Language identification restricted to a workspace's languages.

Short feedback ("Tak for hjælpen!", "Pakken kom for sent") is where general detectors
fail, and Danish versus Bokmål is the hardest pair. We use Lingua's n-gram models,
restricted to the workspace's languages, and combine its confidence with a prior
from the customer's locale: posterior ∝ lingua_confidence × prior.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "da", "sv", "nb", "nl")

_LINGUA_BY_CODE: dict[str, Language] = {
    "en": Language.ENGLISH,
    "da": Language.DANISH,
    "sv": Language.SWEDISH,
    "nb": Language.BOKMAL,
    "nl": Language.DUTCH,
}
_CODE_BY_LINGUA = {language: code for code, language in _LINGUA_BY_CODE.items()}

# How much weight the customer's locale gets: the locale's language is this many
# times as likely a priori as any other workspace language. Strong enough to tip a
# genuinely ambiguous Danish/Bokmål sentence, too weak to overrule clear evidence.
LOCALE_PRIOR_STRENGTH = 4.0


class UnsupportedLanguageError(ValueError):
    """A language code outside what the insight package can analyse."""


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()


def language_from_locale(locale: str | None) -> str | None:
    """Map a locale such as ``nb_NO``, ``no-NO``, ``da-DK`` or ``nl`` to a language code."""
    if not locale:
        return None
    primary = locale.replace("_", "-").split("-")[0].lower()
    if primary in ("no", "nn"):
        # Norwegian without a written standard: Bokmål is what 85–90 % write.
        primary = "nb"
    return primary if primary in _LINGUA_BY_CODE else None


def _check_languages(languages: Iterable[str]) -> tuple[str, ...]:
    codes = tuple(sorted(set(languages)))
    unknown = [code for code in codes if code not in _LINGUA_BY_CODE]
    if unknown:
        raise UnsupportedLanguageError(f"unsupported language codes: {unknown}")
    if not codes:
        raise UnsupportedLanguageError("at least one language is needed")
    return codes


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...], low_accuracy: bool) -> LanguageDetector:
    builder = LanguageDetectorBuilder.from_languages(*(_LINGUA_BY_CODE[c] for c in languages))
    if low_accuracy:
        # Trigrams only: less memory and faster, noticeably worse on short Scandinavian text.
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def detect_language(
    text: str,
    *,
    languages: Sequence[str] = SUPPORTED_LANGUAGES,
    locale: str | None = None,
    low_accuracy: bool = False,
) -> LanguageGuess:
    """Return the most likely workspace language of ``text`` and its confidence (0..1)."""
    codes = _check_languages(languages)
    if len(codes) == 1:
        return LanguageGuess(codes[0], 1.0)
    prior_language = language_from_locale(locale)
    values = _detector(codes, low_accuracy).compute_language_confidence_values(text)
    evidence = {_CODE_BY_LINGUA[value.language]: value.value for value in values}
    if not any(evidence.values()):
        # No letters Lingua can use (emoji, digits): fall back on the locale alone.
        evidence = {code: 1.0 for code in codes}
    posterior = {
        code: evidence.get(code, 0.0) * (LOCALE_PRIOR_STRENGTH if code == prior_language else 1.0)
        for code in codes
    }
    total = sum(posterior.values())
    ranked = sorted(((code, p / total) for code, p in posterior.items()), key=lambda kv: -kv[1])
    best_language, best_confidence = ranked[0]
    return LanguageGuess(best_language, best_confidence, tuple(ranked[1:]))
