"""Names staff read instead of the keys Tillit stores: a purpose by its notice's title, a
dialogue question by its English text, an answer choice by its English label, a channel or a
language by its name. Each lookup falls back to the key made readable (underscores as spaces),
never to the raw key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent import notices, wording
from tillit.dialogues.catalogue import text_in
from tillit.dialogues.models import Question, QuestionVersion

SHORT = 70  # a question's text is cut after this many characters in tables and lists


def purpose_titles(session: Session) -> dict[str, str]:
    """Each purpose key -> the title of its current English notice."""
    titles = {}
    for purpose in notices.list_purposes(session=session, active_only=False):
        notice = notices.current_notice(session=session, purpose=purpose, language="en")
        titles[purpose.key] = notice.title if notice else readable(purpose.key)
    return titles


def topic_names(session: Session) -> dict[str, str]:
    return {
        topic.key: text_in(topic.names, "en") or readable(topic.key)
        for topic in notices.list_topics(session=session)
    }


# Where events come from, beyond the channels a customer can be contacted on.
EVENT_CHANNELS = {
    "web": "Web",
    "app": "App",
    "store": "Store",
    "chat": "Chat",
    "widget": "Web widget",
}
# The tracking call types (Segment's spec), as staff say them.
EVENT_TYPES = {
    "track": "Action",
    "page": "Page view",
    "screen": "App screen",
    "identify": "Identified",
    "group": "Group",
    "alias": "New identifier",
}


def readable(key: str) -> str:
    """``firstName``, ``first_name`` and ``source:store`` all read as words."""
    key = key.removeprefix("source:")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").lower()


def channel_name(code: str | None) -> str:
    if not code:
        return "—"
    return wording.CHANNEL_NAMES.get(code) or EVENT_CHANNELS.get(code) or readable(code)


def event_type_name(code: str) -> str:
    return EVENT_TYPES.get(code) or readable(code)


def identity_name(code: str) -> str:
    return wording.IDENTITY_NAMES.get(code) or readable(code)


QUALITY_PARTS = {"identity": "Identity", "profile": "Profile", "traits": "Trait"}
CASE_NOTES = {
    "open": "Opened",
    "escalate": "Escalated",
    "note": "Internal note",
    "reply": "Reply to the customer",
    "assign": "Assigned",
    "resolve": "Resolved",
}


def quality_field_name(label: str) -> str:
    """``identity.anonymous_id`` reads "Identity: browser identifier", ``profile.firstName``
    "Profile: first name"."""
    part, _, name = label.partition(".")
    if not name:
        return readable(label)
    words = identity_name(name) if part == "identity" else readable(name)
    return f"{QUALITY_PARTS.get(part, readable(part).capitalize())}: {words}"


def case_note_name(kind: str) -> str:
    return CASE_NOTES.get(kind) or readable(kind).capitalize()


def country_name(code: str | None) -> str:
    if not code:
        return "—"
    return Locale("en").territories.get(code.upper()) or code


def language_name(code: str | None) -> str:
    """A language or locale tag in English words: "da" is Danish, "da-DK" Danish (Denmark)."""
    if not code:
        return "—"
    try:
        return Locale.parse(code, sep="-").get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


# A data request's kind and status (GDPR articles 15, 17, 20 and 21) as staff say them.
DATA_REQUEST_KINDS = {
    "access": "Access: a copy of their data (export)",
    "erasure": "Erasure: delete their data",
    "portability": "Portability: their data to take elsewhere",
    "objection": "Objection to processing",
}
DATA_REQUEST_STATUSES = {"open": "Open", "done": "Done", "rejected": "Rejected"}
# Traits whose values are codes with names of their own.
COUNTRY_TRAITS = {"country", "countrycode", "country_code"}
LANGUAGE_TRAITS = {"language", "locale", "preferredlanguage", "preferred_language"}


def data_request_kind(kind: str) -> str:
    return DATA_REQUEST_KINDS.get(kind) or readable(kind).capitalize()


def data_request_status(status: str) -> str:
    return DATA_REQUEST_STATUSES.get(status) or readable(status).capitalize()


def coded_value(key: str, value: object) -> str | None:
    """A trait's value in words when its key says what kind of code it is ("country": "NO"
    reads "Norway", "language": "da" reads "Danish"); None for any other trait."""
    if not isinstance(value, str) or not value:
        return None
    name = key.lower()
    if name in COUNTRY_TRAITS and len(value) == 2:
        return country_name(value)
    if name in LANGUAGE_TRAITS:
        return language_name(value)
    return None


MATCHED = re.compile(r"^match(?:: probability (?P<p>[0-9.]+))?$")
SHARED = re.compile(r"^(?P<call>\w+): shares (?P<keys>.*)$")


def merge_reason(reason: str | None) -> str:
    """Why two profiles were merged, from the reason identity stored: "match: probability
    0.9967" reads "Matching: 99.67% likely the same person", "identify: shares email, user_id"
    reads "Both used e-mail, customer number (Identified event)". Free text stays as it is."""
    if not reason:
        return "—"
    if found := MATCHED.match(reason):
        if found["p"] is None:
            return "Accepted match"
        percent = f"{float(found['p']) * 100:.2f}".rstrip("0").rstrip(".")
        return f"Matching: {percent}% likely the same person"
    if found := SHARED.match(reason):
        keys = ", ".join(
            identity_name(k.strip()).lower() for k in found["keys"].split(",") if k.strip()
        )
        return f"Both used {keys or 'the same identifier'} ({event_type_name(found['call'])} event)"
    return reason


@dataclass
class QuestionWords:
    """Questions by their English text and answer choices by their English labels, for every
    version a response may have been given to."""

    titles: dict[int, str] = field(default_factory=dict)  # question id -> current text
    choices: dict[int, dict[str, str]] = field(default_factory=dict)  # question id -> labels
    version_numbers: dict[int, int] = field(default_factory=dict)  # version id -> number

    def title(self, question: Question) -> str:
        text = self.titles.get(question.id) or readable(question.key)
        return text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"

    def answer(self, question_id: int, values: list[str] | None) -> str:
        labels = self.choices.get(question_id, {})
        return ", ".join(labels.get(str(v)) or readable(str(v)) for v in values or [])

    def version(self, version_id: int) -> int | None:
        return self.version_numbers.get(version_id)


def question_words(session: Session) -> QuestionWords:
    words = QuestionWords()
    current = {q.id: q.current_version for q in session.scalars(select(Question))}
    for version in session.scalars(select(QuestionVersion).order_by(QuestionVersion.version)):
        words.version_numbers[version.id] = version.version
        labels = words.choices.setdefault(version.question_id, {})
        for option in version.options or []:
            labels[str(option["value"])] = text_in(option.get("labels"), "en")
        if version.version == current.get(version.question_id):
            words.titles[version.question_id] = text_in(version.texts, "en")
    return words
