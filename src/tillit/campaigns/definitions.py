"""What a campaign definition must say, checked field by field: one shape for the API's body, the
CLI's JSON file and the staff editor's form, so all three refuse the same things in the same words.

A campaign names a consent purpose, a kind of message, its topics, an audience (a segment), how
to pick the channel, its content in each language, when it runs, the relevance rule that decides
who it is for, and the shares of the audience kept back (hold-out) or sent as a blast would be.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from tillit.errors import FieldError, InvalidInput, invalid_fields, json_document
from tillit.i18n import LANGUAGES
from tillit.vocabulary import MessageKind, OutboundChannel

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Key = Annotated[str, Field(pattern=KEY_PATTERN, description="a-z, 0-9, '_' and '-'; 1-64")]
Language = Literal["en", "da", "sv", "nb", "nl"]
# The personal fields a subject or body may use, e.g. "Hi {first_name}".
PERSONAL_FIELDS = ("first_name", "name", "why_url", "unsubscribe_url")
MAX_TOPICS = 10
MAX_SIGNALS = 20


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul", "must not contain the NUL character (U+0000)")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


def fields_in(template: str) -> list[str]:
    """The ``{field}`` names a text uses; ValueError for a broken brace."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def _personal(value: str) -> str:
    try:
        names = fields_in(value)
    except ValueError as error:
        raise PydanticCustomError(
            "template", "has a lone '{{' or '}}' (write '{{{{' for a brace): {why}", {"why": error}
        ) from None
    unknown = sorted({name for name in names if name not in PERSONAL_FIELDS})
    if unknown:
        raise PydanticCustomError(
            "template",
            "uses {unknown}; the personal fields are {known}",
            {
                "unknown": ", ".join(f"{{{n}}}" for n in unknown),
                "known": ", ".join(f"{{{n}}}" for n in PERSONAL_FIELDS),
            },
        )
    return value


Template = Annotated[str, AfterValidator(_no_nul), AfterValidator(_personal)]


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Template = Field(min_length=1, max_length=200)
    body: Template = Field(min_length=1, max_length=10_000)


class Signal(BaseModel):
    """Recent behaviour that makes one of the campaign's topics relevant to a customer, e.g.
    ``Product Viewed`` events whose ``category`` is ``outdoor`` for the topic ``offers``."""

    model_config = ConfigDict(extra="forbid")

    topic: Key = Field(description="The campaign topic this behaviour speaks for")
    event: Text = Field(min_length=1, max_length=200, description="An event name")
    property: Text | None = Field(None, min_length=1, max_length=100)
    value: Text | None = Field(None, min_length=1, max_length=200)
    weight: float = Field(0.5, ge=0, le=1, description="Its share of the score when saturated")
    saturation: int = Field(3, ge=1, le=100, description="This many events count in full")
    label: dict[Language, Annotated[Text, Field(min_length=1, max_length=120)]] = Field(
        description="What the customer did, in words per language: 'looked at running shoes'"
    )


class Relevance(BaseModel):
    """The score is ``topic_weight`` when the customer chose one of the campaign's topics, plus
    each signal's weight times min(events, saturation) / saturation, at most 1. A customer is
    relevant from ``min_score`` on."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    min_score: float = Field(0.5, ge=0, le=1)
    topic_weight: float = Field(0.5, ge=0, le=1)
    window_days: int = Field(7, ge=1, le=365, description="How far back behaviour counts")
    signals: list[Signal] = Field(default_factory=list, max_length=MAX_SIGNALS)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["once", "recurring", "triggered"] = "once"
    at: datetime | None = Field(None, description="once: when (with a time zone offset)")
    every_days: int | None = Field(None, ge=1, le=365, description="recurring: how often")
    event: Text | None = Field(
        None, min_length=1, max_length=200, description="triggered: the event that starts it"
    )
    goal: Key | None = Field(
        None, description="triggered: the analytics goal whose reaching starts it (or an event)"
    )


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("unique", "each value may appear only once")
    return values


class CampaignDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    name: Text = Field(min_length=1, max_length=200)
    purpose: Key = Field(description="The consent purpose it serves, e.g. 'marketing'")
    kind: MessageKind = MessageKind.marketing
    topics: Annotated[list[Key], AfterValidator(_unique)] = Field(
        default_factory=list, max_length=MAX_TOPICS
    )
    segment: Key = Field(description="The audience: a segment key")
    channel: Literal["preferred"] | OutboundChannel = Field(
        "preferred",
        description="'preferred': each customer's own order of channels among `channels`; "
        "or one fixed channel",
    )
    channels: Annotated[list[OutboundChannel], AfterValidator(_unique)] = Field(
        default_factory=lambda: [OutboundChannel.email], min_length=1, max_length=8
    )
    content: dict[Language, Content] = Field(min_length=1)
    fallback_language: Language | None = Field(
        None, description="Used for customers whose language has no content; none: they are held"
    )
    schedule: Schedule = Field(default_factory=Schedule)
    send_time: Literal["window_start", "best_hour"] = Field(
        "window_start",
        description="'window_start': as soon as the customer's window allows (after quiet "
        "hours); 'best_hour': the local hour at which they engage most, learned from their own "
        "events of the last 90 days (none: as window_start)",
    )
    relevance: Relevance = Field(default_factory=Relevance)
    holdout_share: float = Field(0.0, ge=0, le=0.5, description="Planned but never sent")
    blast_share: float = Field(0.0, ge=0, le=0.5, description="Sent without the relevance gate")
    min_days_between: int = Field(
        7, ge=0, le=365, description="The campaign's own frequency: days between two messages"
    )
    goal: Key | None = Field(None, description="An analytics goal: what counts as success")


def check_definition(definition: CampaignDefinition) -> CampaignDefinition:
    """The rules across fields, each error naming its field."""
    errors = []
    missing = [language for language in LANGUAGES if language not in definition.content]
    if definition.fallback_language is None and missing:
        errors.append(
            FieldError(
                "content",
                f"has no text in {', '.join(missing)}; add it, or choose a fallback_language",
            )
        )
    if (
        definition.fallback_language is not None
        and definition.fallback_language not in definition.content
    ):
        errors.append(FieldError("fallback_language", "has no content of its own"))
    for index, signal in enumerate(definition.relevance.signals):
        if signal.topic not in definition.topics:
            errors.append(
                FieldError(f"relevance.signals[{index}].topic", "is not one of the topics")
            )
        if (signal.property is None) != (signal.value is None):
            errors.append(
                FieldError(f"relevance.signals[{index}].value", "give property and value together")
            )
        lacking = [lang for lang in definition.content if lang not in signal.label]
        if lacking:
            errors.append(
                FieldError(
                    f"relevance.signals[{index}].label", f"has no words in {', '.join(lacking)}"
                )
            )
    if definition.channel != "preferred" and definition.channel not in definition.channels:
        errors.append(FieldError("channel", "is not one of the channels"))
    if definition.holdout_share + definition.blast_share > 0.8:
        errors.append(FieldError("blast_share", "with the hold-out, leaves too few for relevance"))
    schedule = definition.schedule
    if schedule.type == "once" and schedule.at is not None and schedule.at.utcoffset() is None:
        errors.append(FieldError("schedule.at", "needs a time zone offset"))
    if schedule.type == "recurring" and schedule.every_days is None:
        errors.append(FieldError("schedule.every_days", "a recurring campaign says how often"))
    if schedule.type == "triggered" and schedule.event is None and schedule.goal is None:
        errors.append(
            FieldError("schedule.event", "a triggered campaign names its event, or a goal")
        )
    if schedule.type == "triggered" and schedule.event is not None and schedule.goal is not None:
        errors.append(FieldError("schedule.goal", "name an event or a goal, not both"))
    if schedule.type != "triggered" and schedule.goal is not None:
        errors.append(FieldError("schedule.goal", "only a triggered campaign starts from a goal"))
    if definition.kind is MessageKind.dialogue and definition.purpose != "research":
        errors.append(FieldError("purpose", "dialogue messages use 'research'"))
    if errors:
        raise InvalidInput(errors)
    return definition


def parse_definition(data: Any) -> CampaignDefinition:
    try:
        definition = CampaignDefinition.model_validate(data)
    except ValidationError as error:
        raise invalid_fields(error.errors()) from error
    return check_definition(definition)


def parse_definition_json(text: bytes | str) -> CampaignDefinition:
    return parse_definition(json_document(text))


def content_for(definition: CampaignDefinition, language: str) -> tuple[str, Content] | None:
    """The content a customer of ``language`` gets (their own, else the fallback), or None."""
    if language in definition.content:
        return language, definition.content[language]
    if definition.fallback_language is not None:
        return definition.fallback_language, definition.content[definition.fallback_language]
    return None


def fill(template: str, values: dict[str, str]) -> str:
    return template.format_map({name: values.get(name, "") for name in PERSONAL_FIELDS})
