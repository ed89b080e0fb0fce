"""Plain, translated words for what a customer reads about their own choices.

Channels, identity types, languages, places and time zones are shown as words in the
customer's language, never as codes; a saved change is told back as sentences ("We will e-mail
you at most once a week, never between 21:00 and 08:00.").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, get_timezone_location

from tillit.consent.preferences import (
    Cap,
    PreferenceDocument,
    QuietHours,
    time_zones,
    zones_for_country,
)
from tillit.i18n import N_, translations
from tillit.vocabulary import OutboundChannel

# Keyed by the stored string, for templates that look up a logged decision's channel.
CHANNEL_NAMES: dict[str, str] = {channel.value: channel.label for channel in OutboundChannel}
IDENTITY_NAMES: dict[str, str] = {
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "user_id": N_("Customer number"),
    "anonymous_id": N_("Browser identifier"),
    "device_id": N_("Device"),
    "loyalty_card": N_("Loyalty card"),
    "social_handle": N_("Social media account"),
}
PERIOD_NAMES = {"day": N_("per day"), "week": N_("per week"), "month": N_("per month")}


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def locale_name(tag: str, language: str) -> str:
    """``da-DK`` as "Dansk (Danmark)" in English words, "dansk (Danmark)" capitalised in Danish."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(language)
    except (ValueError, UnknownLocaleError):
        return tag
    return _capitalised(name) if name else tag


def language_name(code: str, language: str) -> str:
    """A language's name as it is said in ``language`` (for a sentence: "på dansk")."""
    try:
        return Locale.parse(language).languages.get(code, code)
    except (ValueError, UnknownLocaleError):
        return code


def zone_name(zone: str, language: str) -> str:
    """A zone as a place, in the customer's words: "Danmark-tid", "USA (New York)-tid"."""
    if zone == "UTC":
        return "UTC"
    try:
        return str(get_timezone_location(zone, locale=language))
    except (LookupError, ValueError):
        return zone


@cache
def zone_choices(language: str, country: str | None) -> tuple[tuple[str, str], ...]:
    """(zone, name) for the picker: the customer's country first, then the rest by name."""
    first = zones_for_country(country)
    rest = sorted(
        (zone for zone in time_zones() if zone not in first),
        key=lambda zone: zone_name(zone, language).casefold(),
    )
    return tuple((zone, zone_name(zone, language)) for zone in (*first, *rest))


def cap_phrase(cap: Cap, language: str) -> str:
    ngettext = translations(language).ngettext
    if cap.period == "day":
        text = ngettext("at most once a day", "at most %(num)d times a day", cap.count)
    elif cap.period == "week":
        text = ngettext("at most once a week", "at most %(num)d times a week", cap.count)
    else:
        text = ngettext("at most once a month", "at most %(num)d times a month", cap.count)
    return text % {"num": cap.count}


def _quiet_clause(quiet: QuietHours, language: str) -> str:
    _ = translations(language).gettext
    return _("never between %(start)s and %(end)s") % {
        "start": quiet.start.strftime("%H:%M"),
        "end": quiet.end.strftime("%H:%M"),
    }


def _channel_sentences(
    before: PreferenceDocument, after: PreferenceDocument, language: str
) -> list[str]:
    _ = translations(language).gettext
    sentences = []
    for channel in OutboundChannel:
        on = after.channels.get(channel, True)
        was_on = before.channels.get(channel, True)
        cap, old_cap = after.caps.get(channel), before.caps.get(channel)
        if not on and was_on:
            sentences.append(
                _("%(channel)s: we will not contact you this way.") % {"channel": _(channel.label)}
            )
        elif on and (not was_on or cap != old_cap):
            sentence = _(channel.reaches)
            sentence += f" {cap_phrase(cap, language)}" if cap else ""
            quiet = after.quiet_hours
            sentence += f", {_quiet_clause(quiet, language)}" if quiet else ""
            sentences.append(sentence + ".")
    return sentences


def _quiet_sentence(after: PreferenceDocument, language: str) -> str:
    _ = translations(language).gettext
    if after.quiet_hours is None:
        return _("You have no quiet hours: we may contact you at any time of day.")
    return _("We will never contact you between %(start)s and %(end)s.") % {
        "start": after.quiet_hours.start.strftime("%H:%M"),
        "end": after.quiet_hours.end.strftime("%H:%M"),
    }


def summarise(
    before: PreferenceDocument,
    after: PreferenceDocument,
    *,
    language: str,
    topic_label: Callable[[str], str],
) -> list[str]:
    """What a saved change means for the customer, one sentence per thing that changed."""
    _ = translations(language).gettext
    sentences = _channel_sentences(before, after, language)
    channel_lines = bool(sentences) and after.quiet_hours is not None
    if after.quiet_hours != before.quiet_hours and not channel_lines:
        sentences.append(_quiet_sentence(after, language))
    if after.overall_cap != before.overall_cap:
        sentences.append(
            _("All channels together: %(limit)s.")
            % {"limit": cap_phrase(after.overall_cap, language)}
            if after.overall_cap
            else _("There is no limit for all channels together.")
        )
    if after.time_zone != before.time_zone and after.time_zone:
        sentences.append(
            _("Your quiet hours follow %(zone)s.") % {"zone": zone_name(after.time_zone, language)}
        )
    if after.topics != before.topics:
        names = [topic_label(key) for key in after.topics or []]
        sentences.append(
            _("You will hear about: %(topics)s.") % {"topics": ", ".join(names)}
            if names
            else _("You will not hear about any of our topics.")
        )
    sentences += _other_sentences(before, after, language)
    return sentences or [_("Nothing changed: these were already your choices.")]


def _other_sentences(
    before: PreferenceDocument, after: PreferenceDocument, language: str
) -> list[str]:
    _ = translations(language).gettext
    sentences = []
    if after.paused_until != before.paused_until:
        sentences.append(
            _("We will send you nothing until %(date)s.")
            % {"date": format_date(after.paused_until, "long", locale=language)}
            if after.paused_until
            else _("Your pause is over: we may contact you again.")
        )
    if after.language != before.language and after.language:
        sentences.append(
            _("We will write to you in %(language)s.")
            % {"language": language_name(after.language, language)}
        )
    if after.channel_order != before.channel_order and after.channel_order:
        names = ", ".join(_(CHANNEL_NAMES[c]) for c in after.channel_order)
        sentences.append(_("When we can choose, we use: %(channels)s.") % {"channels": names})
    if after.dialogues != before.dialogues:
        sentences.append(
            _("We may ask you a short question now and then.")
            if after.dialogues
            else _("We will not ask you questions.")
        )
    return sentences
