"""Theme names staff can read: what a theme is about in plain words, in each staff language.

A theme's keywords are the words that set it apart ("week · after · ago"); they are not a name.
Here a curated list of what customers of a shop write about (delivery, prices, staff, the app,
refunds...) is written once per language as the word stems that speak of it. A theme is named
after the one or two subjects that most of its comments mention, far more often than the other
themes' comments do ("Delivery and delays"); where no subject stands out, the name says which
words its comments share, quoted ('Comments mentioning "staff" and "asked"'), never an id.

Stems: ``word`` matches tokens that start with it, ``=word`` only the token itself (``=app``,
not "apply"), ``~word`` the word inside a compound too (Danish "fragtprisen" is about a price).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tillit.insight.sentiment import tokenize

STAFF_LANGUAGES = ("en", "da", "sv", "nb", "nl")
# The language staff pages are written in; the other names are kept for staff of other tongues.
STAFF_LANGUAGE = "en"

# A subject names a theme when at least this share of its comments mention it...
MIN_SHARE = 0.25
# ...at least this many times as often as comments in general do (where there are others),
# or, where the subject runs through everything, at least this share of them.
MIN_LIFT = 1.5
MOSTLY = 0.5
# A second subject joins the name when it scores at least this share of the first's score.
SECOND_SUBJECT = 0.6


@dataclass(frozen=True)
class Subject:
    key: str
    names: dict[str, str]  # per staff language
    stems: dict[str, tuple[str, ...]]  # per comment language


SUBJECTS: tuple[Subject, ...] = (
    Subject(
        "delivery",
        {"en": "Delivery", "da": "Levering", "sv": "Leverans", "nb": "Levering", "nl": "Bezorging"},
        {
            "en": (
                "deliver",
                "parcel",
                "package",
                "courier",
                "shipping",
                "shipment",
                "arriv",
                "transit",
                "dispatch",
                "tracking",
            ),
            "da": ("lever", "pakke", "budet", "forsendelse", "ankom", "~levering"),
            "sv": ("leverans", "leverera", "paket", "budet", "försändelse", "ankom"),
            "nb": ("lever", "pakke", "budet", "sending", "forsendelse", "ankom"),
            "nl": ("lever", "bezorg", "pakket", "pakje", "zending"),
        },
    ),
    Subject(
        "delays",
        {
            "en": "Delays",
            "da": "Forsinkelser",
            "sv": "Förseningar",
            "nb": "Forsinkelser",
            "nl": "Vertraging",
        },
        {
            "en": ("late", "delay", "wait", "overdue"),
            "da": ("forsink", "=sent", "vente", "venter"),
            "sv": ("försen", "=sent", "vänta", "väntar", "dröj"),
            "nb": ("forsink", "=sent", "vente", "venter"),
            "nl": ("vertraag", "vertraging", "=laat", "wacht"),
        },
    ),
    Subject(
        "staff",
        {
            "en": "Staff",
            "da": "Personalet",
            "sv": "Personalen",
            "nb": "De ansatte",
            "nl": "Personeel",
        },
        {
            "en": ("staff", "assistant", "employee", "cashier", "clerk", "salesperson"),
            "da": ("personale", "ekspedient", "medarbejder", "ansat"),
            "sv": ("personal", "expedit", "anställd", "biträde", "medarbetare"),
            "nb": ("ansatt", "ekspeditør", "personal", "medarbeider"),
            "nl": ("personeel", "medewerker", "verkoper", "caissi"),
        },
    ),
    Subject(
        "rudeness",
        {
            "en": "Rude treatment",
            "da": "Uhøflig behandling",
            "sv": "Otrevligt bemötande",
            "nb": "Uhøflig behandling",
            "nl": "Onbeleefde behandeling",
        },
        {
            "en": (
                "rude",
                "unfriendly",
                "impolite",
                "impatient",
                "shout",
                "nuisance",
                "ignor",
                "eyes",
            ),
            "da": ("uhøflig", "uvenlig", "utålmodig", "råbte", "plage", "himle", "ignorer"),
            "sv": ("otrevlig", "ovänlig", "otålig", "skrek", "himla", "oförskämd", "ignorer"),
            "nb": ("uhøflig", "uvennlig", "utålmodig", "kjeft", "himle", "frekk", "ignorer"),
            "nl": (
                "onbeleefd",
                "onvriendelijk",
                "ongeduldig",
                "schreeuw",
                "lastpost",
                "genegeerd",
                "ogen",
            ),
        },
    ),
    Subject(
        "good_service",
        {
            "en": "Friendly, helpful service",
            "da": "Venlig, hjælpsom service",
            "sv": "Trevlig, hjälpsam service",
            "nb": "Vennlig, hjelpsom service",
            "nl": "Vriendelijke, behulpzame service",
        },
        {
            "en": (
                "helpful",
                "friendly",
                "=kind",
                "fantastic",
                "excellent",
                "=best",
                "solved",
                "fixed",
                "great job",
                "went out of their way",
            ),
            "da": (
                "hjælpsom",
                "venlig",
                "fantastisk",
                "bedste",
                "flot",
                "søde",
                "løste",
                "ordnede",
            ),
            "sv": (
                "hjälpsam",
                "trevlig",
                "fantastisk",
                "bästa",
                "jättebra",
                "snäll",
                "löste",
                "fixade",
            ),
            "nb": (
                "hjelpsom",
                "vennlig",
                "fantastisk",
                "beste",
                "kjempebra",
                "hyggelig",
                "løste",
                "ordnet",
            ),
            "nl": (
                "behulpza",
                "vriendelijk",
                "aardig",
                "fantastisch",
                "beste",
                "=top",
                "loste",
                "regelden",
            ),
        },
    ),
    Subject(
        "prices",
        {"en": "Prices", "da": "Priser", "sv": "Priser", "nb": "Priser", "nl": "Prijzen"},
        {
            "en": ("pric", "expensive", "cheap", "cost", "=fee", "fees", "subscription", "afford"),
            "da": ("~pris", "dyr", "billig", "koste", "abonnement", "gebyr"),
            "sv": ("~pris", "dyr", "billig", "kosta", "prenumeration", "~avgift"),
            "nb": ("~pris", "dyr", "billig", "koste", "abonnement", "gebyr"),
            "nl": (
                "~prijs",
                "prijz",
                "=duur",
                "duurder",
                "goedko",
                "~kosten",
                "=kost",
                "abonnement",
            ),
        },
    ),
    Subject(
        "app",
        {"en": "The app", "da": "Appen", "sv": "Appen", "nb": "Appen", "nl": "De app"},
        {
            "en": ("=app", "=apps", "crash", "freez", "login", "update"),
            "da": ("=app", "appen", "crash", "fryser", "opdater", "logge"),
            "sv": ("=app", "appen", "krasch", "fryser", "uppdater", "logga"),
            "nb": ("=app", "appen", "krasj", "fryser", "oppdater", "logge", "logget"),
            "nl": ("=app", "crash", "inlog", "update", "hangen"),
        },
    ),
    Subject(
        "payment",
        {"en": "Payment", "da": "Betaling", "sv": "Betalning", "nb": "Betaling", "nl": "Betalen"},
        {
            "en": ("payment", "checkout", "=pay", "card"),
            "da": ("betaling", "=betale", "kortet"),
            "sv": ("betalning", "=betala", "kortet"),
            "nb": ("betaling", "=betale", "kortet"),
            "nl": ("betaling", "=betalen", "afreken", "pinnen"),
        },
    ),
    Subject(
        "refunds",
        {
            "en": "Refunds and returns",
            "da": "Refusion og returnering",
            "sv": "Återbetalning och retur",
            "nb": "Refusjon og retur",
            "nl": "Terugbetaling en retour",
        },
        {
            "en": ("refund", "return", "reimburs", "money back"),
            "da": ("refu", "returner", "tilbagebetal", "pengene"),
            "sv": ("återbetal", "retur", "pengarna", "pengar"),
            "nb": ("refu", "retur", "tilbakebetal", "pengene"),
            "nl": ("terugbetal", "retour", "teruggestuurd", "terugsturen", "=geld"),
        },
    ),
    Subject(
        "quality",
        {
            "en": "Product quality",
            "da": "Produktkvalitet",
            "sv": "Produktkvalitet",
            "nb": "Produktkvalitet",
            "nl": "Productkwaliteit",
        },
        {
            "en": ("qualit", "broke", "apart", "defect", "fault", "flims", "=thin", "torn"),
            "da": ("~kvalitet", "stykker", "defekt", "ødelagt", "tynd", "itu"),
            "sv": ("~kvalitet", "sönder", "trasig", "defekt", "tunn"),
            "nb": ("~kvalitet", "stykker", "defekt", "ødelagt", "tynt", "=røk"),
            "nl": ("~kwaliteit", "kapot", "defect", "elkaar", "=dun"),
        },
    ),
    Subject(
        "opening_hours",
        {
            "en": "Opening hours",
            "da": "Åbningstider",
            "sv": "Öppettider",
            "nb": "Åpningstider",
            "nl": "Openingstijden",
        },
        {
            "en": (
                "=open",
                "opening",
                "hours",
                "closes",
                "closed",
                "evening",
                "weekend",
                "saturday",
                "sunday",
                "lunchtime",
            ),
            "da": ("åbn", "åben", "lukket", "aften", "weekend", "lørdag", "søndag", "frokost"),
            "sv": ("öppe", "öppna", "stäng", "kväll", "helg", "lördag", "söndag", "lunch"),
            "nb": ("åpne", "åpen", "åpning", "steng", "kveld", "helg", "lørdag", "søndag", "lunsj"),
            "nl": (
                "=open",
                "opening",
                "dicht",
                "gesloten",
                "sluit",
                "avond",
                "weekend",
                "zaterdag",
                "zondag",
                "lunch",
            ),
        },
    ),
    Subject(
        "website",
        {
            "en": "The website",
            "da": "Hjemmesiden",
            "sv": "Webbplatsen",
            "nb": "Nettsiden",
            "nl": "De website",
        },
        {
            "en": ("website", "=site", "webshop", "web shop"),
            "da": ("hjemmeside", "webshop", "netbutik"),
            "sv": ("webbplats", "hemsida", "webbshop", "webbutik"),
            "nb": ("nettside", "nettbutikk", "nettsted"),
            "nl": ("website", "webshop", "webwinkel", "site"),
        },
    ),
    Subject(
        "stock",
        {
            "en": "Stock and range",
            "da": "Lager og udvalg",
            "sv": "Lager och sortiment",
            "nb": "Lager og utvalg",
            "nl": "Voorraad en assortiment",
        },
        {
            "en": ("stock", "sold out", "availab", "range"),
            "da": ("lager", "udsolgt", "udvalg"),
            "sv": ("lager", "slutsåld", "sortiment"),
            "nb": ("lager", "utsolgt", "utvalg"),
            "nl": ("voorraad", "uitverkocht", "assortiment"),
        },
    ),
    Subject(
        "contact",
        {
            "en": "Getting an answer",
            "da": "At få svar",
            "sv": "Att få svar",
            "nb": "Å få svar",
            "nl": "Antwoord krijgen",
        },
        {
            "en": ("answer", "repl", "email", "e-mail", "called", "phone", "nobody told"),
            "da": ("svar", "mail", "ringede", "telefon", "skrevet"),
            "sv": ("svar", "mejl", "ringde", "telefon", "hörde av"),
            "nb": ("svar", "e-post", "ringte", "telefon"),
            "nl": ("antwoord", "mail", "belden", "telefo"),
        },
    ),
)

_MENTIONING = {
    "en": ('Comments mentioning "{}"', 'Comments mentioning "{}" and "{}"'),
    "da": ('Kommentarer om "{}"', 'Kommentarer om "{}" og "{}"'),
    "sv": ('Kommentarer om "{}"', 'Kommentarer om "{}" och "{}"'),
    "nb": ('Kommentarer om "{}"', 'Kommentarer om "{}" og "{}"'),
    "nl": ('Opmerkingen over "{}"', 'Opmerkingen over "{}" en "{}"'),
}
_AND = {"en": "and", "da": "og", "sv": "och", "nb": "og", "nl": "en"}
_OTHER = {
    "en": "Other comments",
    "da": "Andre kommentarer",
    "sv": "Andra kommentarer",
    "nb": "Andre kommentarer",
    "nl": "Overige opmerkingen",
}


def _mentions(stem: str, tokens: Sequence[str], joined: str) -> bool:
    if " " in stem:  # a phrase: in the text's words as they run
        return f" {stem}" in joined
    if stem.startswith("="):
        return stem[1:] in tokens
    if stem.startswith("~"):
        return any(stem[1:] in token for token in tokens)
    return any(token.startswith(stem) for token in tokens)


def subjects_of(text: str, language: str) -> frozenset[str]:
    """The subjects a comment mentions (keys of ``SUBJECTS``), read in its language."""
    tokens = tokenize(text)
    joined = " " + " ".join(tokens)
    return frozenset(
        subject.key
        for subject in SUBJECTS
        if any(_mentions(stem, tokens, joined) for stem in subject.stems.get(language, ()))
    )


@dataclass(frozen=True)
class Named:
    """What a theme is called in each staff language, and which subjects gave the name."""

    names: dict[str, str]
    subjects: tuple[str, ...]


def name_theme(
    members: Sequence[frozenset[str]],
    everyone: Sequence[frozenset[str]],
    keywords: dict[str, tuple[str, ...]],
) -> Named:
    """``members``: the subjects of each of the theme's comments (``subjects_of``);
    ``everyone``: those of all comments being themed, this theme's included."""
    if not members:
        return Named(dict(_OTHER), ())
    alone = len(everyone) <= len(members)
    scored = []
    for subject in SUBJECTS:
        share = sum(subject.key in found for found in members) / len(members)
        overall = sum(subject.key in found for found in everyone) / max(len(everyone), 1)
        lift = share / overall if overall else 0.0
        if share >= MIN_SHARE and (alone or lift >= MIN_LIFT or share >= MOSTLY):
            scored.append((share * min(lift, 4.0) if not alone else share, subject))
    scored.sort(key=lambda pair: -pair[0])
    chosen = [subject for _score, subject in scored[:1]]
    if len(scored) > 1 and scored[1][0] >= SECOND_SUBJECT * scored[0][0]:
        chosen.append(scored[1][1])
    if chosen:
        return Named(
            {
                language: _joined(language, [s.names[language] for s in chosen])
                for language in STAFF_LANGUAGES
            },
            tuple(s.key for s in chosen),
        )
    return Named(_mentioning(keywords), ())


def _joined(language: str, names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    first, second = names
    # "Delivery and delays"; a name that starts with an article keeps it ("The app").
    return f"{first} {_AND[language]} {second[0].lower()}{second[1:]}"


def _mentioning(keywords: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The fallback: the theme's most distinctive words, quoted, from the staff language's
    comments where there are some, else from the language with the most keywords."""
    names = {}
    for language in STAFF_LANGUAGES:
        order: Iterable[str] = (language, *sorted(keywords, key=lambda k: -len(keywords[k])))
        words = next((keywords[k][:2] for k in order if keywords.get(k)), ())
        names[language] = (
            _MENTIONING[language][len(words) - 1].format(*words) if words else _OTHER[language]
        )
    return names


def distinct_names(named: Sequence[Named], keywords: Sequence[dict[str, tuple[str, ...]]]) -> None:
    """Themes that came out with the same name get their first distinctive keyword after it
    ("Delivery and delays (week)"), in place, so staff can tell them apart."""
    for language in STAFF_LANGUAGES:
        seen: dict[str, list[int]] = {}
        for index, one in enumerate(named):
            seen.setdefault(one.names[language], []).append(index)
        for name, indices in seen.items():
            if len(indices) < 2:
                continue
            for index in indices:
                words = keywords[index].get(language) or next(
                    (w for w in keywords[index].values() if w), ()
                )
                extra = next((w for w in words if w.casefold() not in name.casefold()), None)
                if extra:
                    named[index].names[language] = f"{name} ({extra})"
