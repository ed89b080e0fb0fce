"""Vendored sentiment lexicons, one merged table per language.

Which files feed which language, and why (see ``data/README.md`` for versions and licences):

* en: AFINN-en-165 + Tillit feedback terms.
* da: AFINN-da-32 + Tillit feedback terms.
* nb: Tillit feedback terms + AFINN-da-32 at reduced weight: written Bokmål shares most
  evaluative vocabulary with Danish and no open Bokmål lexicon ships on PyPI.
* sv: the Swedish translation of the VADER lexicon (valences -4..4, scaled by 1.25 to
  AFINN's -5..5) + Tillit feedback terms.
* nl: Pattern's Dutch adjective lexicon + Tillit feedback terms.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

_DATA = files("tillit.insight") / "data"
_BORROWED_DANISH_WEIGHT = 0.7
_VADER_TO_AFINN = 5 / 4

# Words that flip the polarity of the next few words.
NEGATORS: dict[str, frozenset[str]] = {
    "en": frozenset(
        {
            "not",
            "no",
            "never",
            "don't",
            "didn't",
            "isn't",
            "wasn't",
            "can't",
            "won't",
            "doesn't",
            "aren't",
            "weren't",
            "nothing",
            "hardly",
        }
    ),
    "da": frozenset({"ikke", "ingen", "intet", "aldrig", "hverken"}),
    "sv": frozenset({"inte", "ej", "ingen", "inget", "aldrig", "varken"}),
    "nb": frozenset({"ikke", "ingen", "intet", "aldri", "verken"}),
    "nl": frozenset({"niet", "geen", "nooit", "niets", "nergens"}),
}


def _read_tsv(name: str) -> dict[str, float]:
    table: dict[str, float] = {}
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, value = line.rsplit("\t", 1)
        table[term.strip().lower()] = float(value)
    return table


def _read_feedback_terms(language: str) -> dict[str, float]:
    table: dict[str, float] = {}
    for line in (_DATA / "tillit-feedback-lexicon.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, term, value = line.split("\t")
        if code == language:
            table[term.lower()] = float(value)
    return table


@lru_cache(maxsize=8)
def lexicon_for(language: str) -> dict[str, float]:
    """Term -> valence (-5..5) for one language; multi-word terms contain a space."""
    table: dict[str, float] = {}
    if language == "en":
        table.update(_read_tsv("AFINN-en-165.txt"))
    elif language == "da":
        table.update(_read_tsv("AFINN-da-32.txt"))
    elif language == "nb":
        danish = _read_tsv("AFINN-da-32.txt")
        table.update({term: value * _BORROWED_DANISH_WEIGHT for term, value in danish.items()})
    elif language == "sv":
        vader = _read_tsv("vader-sv-1.0.3.tsv")
        table.update({term: value * _VADER_TO_AFINN for term, value in vader.items()})
    elif language == "nl":
        table.update(_read_tsv("pattern-nl-sentiment-1.2.tsv"))
    # Our own customer-service terms win over the general lexicons.
    table.update(_read_feedback_terms(language))
    return table
