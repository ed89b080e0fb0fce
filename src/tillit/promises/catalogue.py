"""The kinds of promise Tillit can measure, their parameters, and the default catalogue.

A promise's kind binds it to one measurable rule (``tillit.promises.measure``); its parameters
are checked here by a pydantic model per kind, so an edit through the API or the CLI is refused
with the field that is wrong. Customer-facing text is a msgid per kind, translated through the
Babel catalogs and filled in with the parameters; staff may store their own text per language,
which then wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tillit.config import Settings, parse_company_caps
from tillit.errors import FieldError, InvalidInput
from tillit.i18n import LANGUAGES, N_, translations
from tillit.vocabulary import Period

# Kind names: stable, stored with each promise.
FIRST_REPLY = "first_reply"
RESOLUTION = "resolution"
MESSAGE_CAP = "message_cap"
QUIET_HOURS = "quiet_hours"
WITHDRAWAL_STOP = "withdrawal_stop"
DATA_REQUEST = "data_request"
QUESTION_SPACING = "question_spacing"
DETRACTOR_FOLLOWUP = "detractor_followup"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hours(_Params):
    hours: int = Field(24, ge=1, le=24 * 90)


class Days(_Params):
    days: int = Field(30, ge=1, le=365)


class Caps(_Params):
    # None: the caps of TILLIT_COMPANY_CAPS, so the setting keeps working as the seed.
    caps: str | None = None

    @field_validator("caps")
    @classmethod
    def _caps(cls, value: str | None) -> str | None:
        if value is not None:
            parse_company_caps(value)  # raises ValueError naming the bad part
        return value


class Nothing(_Params):
    pass


class Followup(_Params):
    days: int = Field(7, ge=1, le=90)
    max_score: int = Field(6, ge=0, le=10)


@dataclass(frozen=True)
class Kind:
    name: str
    parameters: type[_Params]
    text: str  # msgid, python-format with the parameters
    label: str  # plain words for staff
    evidence: str  # what an instance is: case, send, consent, request, answer


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            FIRST_REPLY,
            Hours,
            N_("We reply to every complaint within %(hours)d hours."),
            "First reply to a complaint in time",
            "case",
        ),
        Kind(
            RESOLUTION,
            Hours,
            N_("We resolve every complaint within %(hours)d hours."),
            "Complaint resolved in time",
            "case",
        ),
        Kind(
            MESSAGE_CAP,
            Caps,
            N_("We never send you more messages than this: %(caps)s."),
            "No more messages than the limit",
            "send",
        ),
        Kind(
            QUIET_HOURS,
            Nothing,
            N_("During your quiet hours we send you nothing but receipts and notices you need."),
            "Nothing but transactional messages in quiet hours",
            "send",
        ),
        Kind(
            WITHDRAWAL_STOP,
            Hours,
            N_("When you withdraw consent or unsubscribe, marketing stops within %(hours)d hours."),
            "Marketing stops after a withdrawal",
            "consent",
        ),
        Kind(
            DATA_REQUEST,
            Days,
            N_("We answer your requests about your data within %(days)d days."),
            "Data requests answered in time",
            "request",
        ),
        Kind(
            QUESTION_SPACING,
            Days,
            N_("We ask you at most one question every %(days)d days."),
            "At most one question per period",
            "send",
        ),
        Kind(
            DETRACTOR_FOLLOWUP,
            Followup,
            N_(
                "When you give us a score of %(max_score)d or less, "
                "we follow up within %(days)d days."
            ),
            "Low scores followed up",
            "answer",
        ),
    )
}

CAP_PHRASE = N_("%(count)d by %(channel)s per %(period)s")
CAP_PHRASE_ALL = N_("%(count)d in all per %(period)s")
PERIOD_WORDS = {Period.day: N_("day"), Period.week: N_("week"), Period.month: N_("month")}


def parameters(kind: str, values: dict[str, Any] | None) -> _Params:
    """The parameters of ``kind`` checked; InvalidInput names the wrong field."""
    found = KINDS.get(kind)
    if found is None:
        raise InvalidInput(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
    try:
        return found.parameters.model_validate(values or {})
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(
                    ".".join(["parameters", *(str(p) for p in e["loc"])]),
                    e["msg"].removeprefix("Value error, "),
                )
                for e in error.errors()
            ]
        ) from None


def effective_caps(values: dict[str, Any], settings: Settings) -> str:
    """The caps a message-cap promise holds to: its own, or TILLIT_COMPANY_CAPS."""
    caps = values.get("caps")
    return settings.company_caps if caps is None else str(caps)


def render(kind: str, values: dict[str, Any], language: str, settings: Settings) -> str:
    """The default customer-facing text of a promise in ``language``."""
    gettext = translations(language).gettext
    found = KINDS[kind]
    filled: dict[str, Any] = dict(parameters(kind, values).model_dump())
    if kind == MESSAGE_CAP:
        phrases = []
        for cap in parse_company_caps(effective_caps(values, settings)):
            period = gettext(PERIOD_WORDS[cap.period])
            if cap.channel is None:
                phrases.append(gettext(CAP_PHRASE_ALL) % {"count": cap.limit, "period": period})
            else:
                channel = gettext(cap.channel.label).lower()
                phrases.append(
                    gettext(CAP_PHRASE) % {"count": cap.limit, "channel": channel, "period": period}
                )
        filled["caps"] = ", ".join(phrases)
    return gettext(found.text) % filled


@dataclass(frozen=True)
class DefaultPromise:
    key: str
    kind: str
    parameters: dict[str, Any]
    target: float


def default_catalogue(settings: Settings) -> tuple[DefaultPromise, ...]:
    """The promises a new installation starts with; staff change them through the API or CLI."""
    return (
        DefaultPromise(
            "complaint-first-reply",
            FIRST_REPLY,
            {"hours": settings.case_first_response_hours},
            0.95,
        ),
        DefaultPromise(
            "complaint-resolved", RESOLUTION, {"hours": settings.case_resolution_hours}, 0.9
        ),
        # The company caps setting is the seed: without its own caps the promise follows it.
        DefaultPromise("message-caps", MESSAGE_CAP, {"caps": None}, 0.99),
        DefaultPromise("quiet-hours", QUIET_HOURS, {}, 0.99),
        DefaultPromise("marketing-stops", WITHDRAWAL_STOP, {"hours": 48}, 0.99),
        DefaultPromise("data-requests", DATA_REQUEST, {"days": 30}, 0.99),
        DefaultPromise(
            "question-spacing",
            QUESTION_SPACING,
            {"days": max(1, settings.dialogue_cooldown_days)},
            0.99,
        ),
        DefaultPromise(
            "low-scores-followed-up", DETRACTOR_FOLLOWUP, {"days": 7, "max_score": 6}, 0.9
        ),
    )


def check_texts(texts: dict[str, str] | None) -> dict[str, str]:
    chosen = {k: v.strip() for k, v in (texts or {}).items() if v and v.strip()}
    wrong = [k for k in chosen if k not in LANGUAGES]
    if wrong:
        raise InvalidInput(FieldError("texts", f"languages are {', '.join(LANGUAGES)}"))
    too_long = [k for k, v in chosen.items() if len(v) > 500]
    if too_long:
        raise InvalidInput(FieldError(f"texts.{too_long[0]}", "at most 500 characters"))
    return chosen
