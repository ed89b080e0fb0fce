"""Language identification restricted to a workspace's languages.

Short feedback ("Tak for hjælpen!", "Pakken kom for sent") is where general detectors
fail, and Danish versus Bokmål is the hardest pair. We use Lingua's n-gram models,
restricted to the workspace's languages, and combine its confidence with a prior
from what else is known about the writer: posterior ∝ lingua_confidence × prior, where the
prior multiplies the customer's locale, the channel's country and the languages of the
customer's earlier comments.

A comment of one to three words that is still unclear after all that (Danish "Tak" and
Bokmål "Takk" aside, "Ok", "Super!" or "Pakken kom" read alike in several languages) is
``UNKNOWN`` rather than a coin toss; ``LanguageGuess.best_guess`` still names the likeliest
language for the lexicon and the theme space.
"""

from __future__ import annotations

import re
from collections import Counter
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
# The channel's country (the shop, web domain or phone number the comment came through) is
# weaker evidence than the writer's own locale: Denmark has Swedish and English writers too.
COUNTRY_PRIOR_STRENGTH = 2.0
# Earlier comments of the same customer: a language that was all of them counts this many
# times more, one that was half of them half as much again (prior 1 + strength × share).
EARLIER_PRIOR_STRENGTH = 3.0
# Texts of at most this many words are UNKNOWN below SHORT_TEXT_MIN_CONFIDENCE; chosen on
# the first and last one to three words of the distinct demo comments, without a locale
# (benchmarks/insight_quality.py). Wrong answers for 1 / 2 / 3 words: no threshold 32 % /
# 18 % / 11 %; 0.6: 1.7 % / 0.2 % / 0.4 % (unknown 56 % / 47 % / 31 %); 0.7: about a
# third fewer wrong answers for ~10 points more unknown.
SHORT_TEXT_WORDS = 3
SHORT_TEXT_MIN_CONFIDENCE = 0.6
UNKNOWN = "unknown"

# Where a country's comments are most likely written (ISO 3166-1 alpha-2).
COUNTRY_LANGUAGES: dict[str, str] = {
    "DK": "da",
    "GL": "da",
    "FO": "da",
    "SE": "sv",
    "AX": "sv",
    "NO": "nb",
    "SJ": "nb",
    "NL": "nl",
    "BE": "nl",
    "SR": "nl",
    "GB": "en",
    "IE": "en",
    "US": "en",
    "CA": "en",
    "AU": "en",
    "NZ": "en",
}
_WORD = re.compile(r"\w+", re.UNICODE)

# Written Danish and Bokmål share most words, and Lingua's character n-grams mix them up on
# short sentences (demo feedback, no hint: 91 % of Bokmål sentences right). These common
# words are spelt differently in the two (Danish "af / efter / mig / hvad / uge", Bokmål
# "av / etter / meg / hva / uke"); each one found multiplies its language's evidence by
# MARKER_WEIGHT (91 % -> 97 % of Bokmål, Danish 99 % -> 100 %; factors 2-5 alike).
# fmt: off
DANISH_MARKERS = frozenset(
    {
        "mit", "dit", "sit", "aldrig", "nægtede", "af", "efter", "mig", "dig", "sig", "nu",
        "hvad", "noget", "meget", "købe", "købt", "køber", "uge", "uger", "spørgsmål", "hjælp",
        "hjælpen", "hjælpe", "vores", "blev", "sådan", "svarede", "venlig", "venlige",
        "venligt", "tak", "hej", "rigtig", "rigtigt", "op", "ud", "lidt", "næste", "sidste",
        "igen", "mere", "været", "gør", "gøre", "fik", "havde", "end", "endnu", "behøver",
        "stadig", "hverken", "sendte", "beskeden", "besked", "hjemmeside", "mailen", "ordren",
        "ugen", "dage", "købte", "øjeblikket"
    }
)
# fmt: on
# fmt: off
BOKMAL_MARKERS = frozenset(
    {
        "mitt", "ditt", "sitt", "aldri", "å", "nektet", "av", "etter", "meg", "deg", "seg",
        "nå", "hva", "noe", "mye", "kjøpe", "kjøpt", "kjøper", "uke", "uker", "spørsmål",
        "hjelp", "hjelpen", "hjelpe", "vår", "våre", "vårt", "ble", "sånn", "svarte", "vennlig",
        "vennlige", "takk", "hei", "riktig", "riktige", "opp", "ut", "litt", "neste", "siste",
        "igjen", "mer", "vært", "gjør", "gjøre", "fikk", "hadde", "enn", "ennå", "trenger",
        "fortsatt", "verken", "veldig", "kjempe", "dere", "meldingen", "melding", "nettsiden",
        "posten", "bestillingen", "uken", "dager", "kjøpte", "øyeblikket"
    }
)
# fmt: on
MARKER_WEIGHT = 3.0


class UnsupportedLanguageError(ValueError):
    """A language code outside what the insight package can analyse."""


@dataclass(frozen=True)
class LanguageGuess:
    """``language`` is a workspace language or ``UNKNOWN``; ``confidence`` is the likeliest
    language's posterior either way, and ``alternatives`` the others, most likely first."""

    language: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()

    @property
    def best_guess(self) -> str:
        """The likeliest workspace language, also when ``language`` is ``UNKNOWN``."""
        if self.language != UNKNOWN or not self.alternatives:
            return self.language
        return self.alternatives[0][0]


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


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _prior(
    codes: Sequence[str], locale: str | None, country: str | None, earlier: Sequence[str]
) -> dict[str, float]:
    from_locale = language_from_locale(locale)
    from_country = COUNTRY_LANGUAGES.get((country or "").strip().upper())
    seen = Counter(code for code in earlier if code in codes)
    total = sum(seen.values())
    return {
        code: (LOCALE_PRIOR_STRENGTH if code == from_locale else 1.0)
        * (COUNTRY_PRIOR_STRENGTH if code == from_country else 1.0)
        * (1.0 + EARLIER_PRIOR_STRENGTH * seen[code] / total if total else 1.0)
        for code in codes
    }


def _danish_or_bokmal(text: str, danish: float, bokmal: float) -> dict[str, float]:
    """Share the Danish + Bokmål evidence out again by the marker words. Their sum stays:
    several markers are words in Swedish, Dutch or English too ("mig", "op", "end"), and
    they must not take evidence from those languages."""
    words = set(_WORD.findall(text.lower()))
    danish_weight = danish * MARKER_WEIGHT ** len(words & DANISH_MARKERS)
    bokmal_weight = bokmal * MARKER_WEIGHT ** len(words & BOKMAL_MARKERS)
    total = danish_weight + bokmal_weight
    if not total:
        return {"da": danish, "nb": bokmal}
    return {
        "da": (danish + bokmal) * danish_weight / total,
        "nb": (danish + bokmal) * bokmal_weight / total,
    }


def detect_language(
    text: str,
    *,
    languages: Sequence[str] = SUPPORTED_LANGUAGES,
    locale: str | None = None,
    country: str | None = None,
    earlier: Sequence[str] = (),
    low_accuracy: bool = False,
) -> LanguageGuess:
    """The most likely workspace language of ``text`` and its confidence (0..1), with the
    writer's ``locale``, the channel's ``country`` and the languages of the same customer's
    ``earlier`` comments as the prior. A text of at most ``SHORT_TEXT_WORDS`` words whose
    best confidence stays below ``SHORT_TEXT_MIN_CONFIDENCE`` is ``UNKNOWN``."""
    codes = _check_languages(languages)
    if len(codes) == 1:
        return LanguageGuess(codes[0], 1.0)
    values = _detector(codes, low_accuracy).compute_language_confidence_values(text)
    evidence = {_CODE_BY_LINGUA[value.language]: value.value for value in values}
    if not any(evidence.values()):
        # No letters Lingua can use (emoji, digits): fall back on the prior alone.
        evidence = {code: 1.0 for code in codes}
    if "da" in evidence and "nb" in evidence:
        evidence |= _danish_or_bokmal(text, evidence["da"], evidence["nb"])
    prior = _prior(codes, locale, country, earlier)
    posterior = {code: evidence.get(code, 0.0) * prior[code] for code in codes}
    total = sum(posterior.values())
    ranked = sorted(((code, p / total) for code, p in posterior.items()), key=lambda kv: -kv[1])
    best_language, best_confidence = ranked[0]
    if word_count(text) <= SHORT_TEXT_WORDS and best_confidence < SHORT_TEXT_MIN_CONFIDENCE:
        return LanguageGuess(UNKNOWN, best_confidence, tuple(ranked))
    return LanguageGuess(best_language, best_confidence, tuple(ranked[1:]))
