"""Every customer-facing string exists in all five languages, and the catalogs match the code."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tillit.i18n import LANGUAGES, LOCALE_DIR, negotiate, translations

ROOT = Path(__file__).parents[1]
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def extracted_ids() -> set[str]:
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(ROOT / "src" / "tillit", METHODS)
    }


def _singular(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _filled(message) -> bool:
    """A translation is there: for a plural message, every one of its forms."""
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(forms)


def test_every_language_translates_every_message():
    wanted = extracted_ids()
    assert "Skip to content" in wanted
    for language in LANGUAGES:
        with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=language)
        # English is the source language: its catalog lists every message, text may be empty.
        listed = {_singular(m.id) for m in catalog if m.id and (_filled(m) or language == "en")}
        missing = sorted(wanted - listed)
        assert not missing, f"{language} lacks {missing}"


def test_translations_are_used():
    assert translations("nl").gettext("Skip to content") == "Naar de inhoud"
    assert translations("en").gettext("Skip to content") == "Skip to content"


def test_negotiation_prefers_explicit_choices_then_the_browser():
    assert negotiate("da", accept_language="nl") == "da"
    assert negotiate(None, accept_language="de-DE,nb;q=0.8,sv;q=0.9") == "sv"
    assert negotiate("no", accept_language="") == "nb"
    assert negotiate(None, accept_language="fr") == "en"
