"""The shared words: stored strings that never change spelling, and a channel's words for
customers in every language."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from tillit.consent.wording import CHANNEL_NAMES
from tillit.i18n import DOMAIN, LANGUAGES, LOCALE_DIR
from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel, Period, SourceChannel


def test_the_stored_strings_never_change() -> None:
    # In the database, the Parquet lake and the API: a new member is fine, a renamed one is not.
    assert [str(c) for c in OutboundChannel] == [
        "email", "sms", "push", "phone", "post", "social", "in_app"
    ]  # fmt: skip
    assert [str(c) for c in SourceChannel] == [
        "web", "app", "store", "email", "sms", "social", "chat", "phone", "post"
    ]  # fmt: skip
    assert [str(b) for b in LegalBasis] == [
        "consent", "legitimate_interest", "contract", "legal_obligation"
    ]  # fmt: skip
    assert [str(k) for k in MessageKind] == ["transactional", "service", "marketing", "dialogue"]
    assert [str(p) for p in Period] == ["day", "week", "month"]
    assert all(member.name == member.value for member in OutboundChannel)


def test_a_channel_is_looked_up_by_its_stored_string() -> None:
    assert OutboundChannel("in_app") is OutboundChannel.in_app
    assert [c.code for c in OutboundChannel] == list(range(len(OutboundChannel)))
    with pytest.raises(ValueError):
        OutboundChannel("fax")


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_channel_has_its_words_in_every_language(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po)
    for channel in OutboundChannel:
        for words in (channel.label, channel.reaches):
            message = catalog.get(words)
            assert message is not None and message.string, (language, words)
    assert {str(c): c.label for c in OutboundChannel} == CHANNEL_NAMES
