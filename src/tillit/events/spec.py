"""The Segment HTTP Tracking API message model: validation, messageId and clock-skew correction.

Pure functions, no database: the API, the bulk importer and the tests share them. Field names
follow https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/.
Everything wrong with one message is an ``InvalidMessage``, so that a batch or a file rejects
that message alone (docs/events.md lists the rules).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from tillit.events.models import EventType
from tillit.vocabulary import SourceChannel

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID_LENGTH = 200
MAX_DEPTH = 254  # levels of objects and lists, the message itself included: orjson's limit
# The range an event's time (after clock-skew correction) must fall in. Nothing tracked
# happened before the Unix epoch (a device whose clock was reset reports it, or year 1); a day
# after receipt leaves room for a server clock that runs ahead and a local time sent as UTC
# (at most 14 hours off), but no event is ever stored in the far future.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)
# JSON carries U+0000 in a string or key only as this escape (a raw NUL byte is not JSON), so
# text without it holds no NUL: one search of a request body clears all its messages at once
# (a search per message cost ~10% of parse_message), and orjson's text of one message
# clears it where there is no such body (a CSV row). See _refuse_nul.
NUL_ESCAPE = b"\\u0000"
NUL_REASON = "must not contain the NUL character (U+0000)"
# Segment libraries name the runtime in context.channel; map the ones that say where it ran.
CONTEXT_CHANNELS = {
    "browser": SourceChannel.web,
    "mobile": SourceChannel.app,
    "client": SourceChannel.web,
}
REQUIRED = {
    EventType.track: ("event",),
    EventType.group: ("groupId",),
    EventType.alias: ("previousId", "userId"),
}


class InvalidMessage(ValueError):
    """The message breaks the spec; the text says how (it is shown to the sender)."""


class JsonText(Mapping[str, Any]):
    """A JSON object kept as its text and decoded on first use.

    The importer's storing process receives messages from its parsing workers as text; it
    reads their contents only when it has to work out identity links again (a chunk with a
    resend), so decoding every one up front was wasted work.
    """

    __slots__ = ("_decoded", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoded: dict[str, Any] | None = None

    def _value(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = orjson.loads(self.text)
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._value()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._value())

    def __len__(self) -> int:
        return len(self._value())


class Message(NamedTuple):
    """A valid message, ready to store and to resolve to a person (a named tuple: immutable,
    and built several times faster than a frozen dataclass, once per event)."""

    message_id: str
    type: EventType
    name: str | None
    channel: SourceChannel
    anonymous_id: str | None
    user_id: str | None
    timestamp: datetime
    raw: Mapping[str, Any]
    # ``raw`` as the compact JSON text that is stored: serialised once, for the size check.
    raw_json: str

    @property
    def traits(self) -> dict[str, Any]:
        traits = self.raw.get("traits")
        if not isinstance(traits, dict):
            context = self.raw.get("context")
            traits = context.get("traits") if isinstance(context, dict) else None
        return traits if isinstance(traits, dict) else {}


def parse_time(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"{field} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidMessage(f"{field} is not an ISO 8601 date-time: {value!r}") from error
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # Segment treats zone-less times as UTC
    try:
        return parsed.astimezone(UTC)
    except OverflowError as error:  # 0001-01-01T00:00:00+14:00, 9999-12-31T23:59:59-14:00
        raise InvalidMessage(
            f"{field} {value!r} cannot be expressed in UTC: it falls outside the years 1 to 9999"
        ) from error


def corrected_time(
    raw: dict[str, Any], *, received_at: datetime, batch_sent_at: datetime | None
) -> datetime:
    """Segment's rule: the device clock may be wrong, but the gap between when it says the event
    happened and when it says it sent it is right, so timestamp = receivedAt - (sentAt - ts).

    The skew itself is not bounded (a phone whose clock is years off is corrected right); the
    result is: it must lie between EARLIEST and MAX_AHEAD after receipt, else the message is
    invalid, so a nonsense gap never stores an event centuries away."""
    field = "timestamp"
    happened = parse_time(raw.get("timestamp"), field)
    if happened is None:
        field = "originalTimestamp"
        happened = parse_time(raw.get(field), field)
    sent_at = parse_time(raw.get("sentAt"), "sentAt") or batch_sent_at
    if "receivedAt" in raw:  # not read (receipt is this server's clock), but kept in the payload
        parse_time(raw["receivedAt"], "receivedAt")
    if happened is None:
        return received_at
    if sent_at is not None:
        try:
            happened = received_at - (sent_at - happened)
        except OverflowError as error:
            what = _corrected(field)
            raise InvalidMessage(f"{what} falls outside the years 1 to 9999") from error
    if EARLIEST <= happened <= received_at + MAX_AHEAD:  # inline: this runs for every event
        return happened
    what = field if sent_at is None else _corrected(field)
    if happened < EARLIEST:
        raise InvalidMessage(f"{what} is {happened.isoformat()}: before {EARLIEST.isoformat()}")
    raise InvalidMessage(
        f"{what} is {happened.isoformat()}: more than {MAX_AHEAD.days} day after it was "
        f"received ({received_at.isoformat()})"
    )


def _corrected(field: str) -> str:
    return f"{field} corrected for the sender's clock (receivedAt - (sentAt - {field}))"


def _identifier(raw: dict[str, Any], field: str) -> str | None:
    """A string, or an integer in its decimal form (Segment's libraries stringify numeric
    ids). Other numbers are refused: their text differs between languages (1e21, 1.0), so
    the same id would not match itself across senders."""
    value = raw.get(field)
    if isinstance(value, str):  # the usual case first
        text = value.strip()
    elif value is None:
        return None
    elif isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMessage(f"{field} must be a string or an integer")
    else:
        text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidMessage(f"{field} must be at most {MAX_ID_LENGTH} characters")
    return text or None


def message_id_for(raw: dict[str, Any]) -> str:
    """The sender's messageId (the same rule as userId: see _identifier), or a hash of the
    content so that a resend is still recognised."""
    given = _identifier(raw, "messageId")
    if given:
        return given
    digest = hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"tillit-{digest[:40]}"


def _refuse_nul(message: dict[str, Any]) -> None:
    """Raises naming a string or key in ``message`` that holds U+0000: PostgreSQL
    stores it in neither text nor jsonb, so both databases refuse it here, alike."""
    pending: list[tuple[object, str]] = [(message, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidMessage(f"{path} {NUL_REASON}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise InvalidMessage(f"a key in {path or 'the message'} {NUL_REASON}")
                pending.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            pending.extend((item, f"{path}[{index}]") for index, item in enumerate(value))


def _channel(raw: dict[str, Any], default: SourceChannel) -> SourceChannel:
    context = raw.get("context")
    named = context.get("channel") if isinstance(context, dict) else None
    if isinstance(named, str):
        if named in SourceChannel.__members__:
            return SourceChannel(named)
        if named in CONTEXT_CHANNELS:
            return CONTEXT_CHANNELS[named]
    return default


TYPES = {str(t): t for t in EventType}
PARTS = ("properties", "traits", "context", "integrations")


def parse_message(
    raw: object,
    *,
    type_: str | None,
    default_channel: SourceChannel,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    may_hold_nul: bool = True,
) -> Message:
    """Check one message; ``type_`` is fixed by the endpoint, or None inside a batch.
    ``may_hold_nul``: False when the JSON the message came in has no NUL_ESCAPE."""
    if not isinstance(raw, dict):
        raise InvalidMessage("must be a JSON object")
    try:
        text = orjson.dumps(raw)
    except orjson.JSONEncodeError as error:  # orjson reads 1,024 levels but writes MAX_DEPTH
        raise InvalidMessage(f"nests objects and lists over {MAX_DEPTH} deep ({error})") from error
    if len(text) > MAX_EVENT_BYTES:
        raise InvalidMessage(f"is {len(text)} bytes; at most {MAX_EVENT_BYTES} bytes per event")
    if may_hold_nul and NUL_ESCAPE in text:  # the walk says where (or finds a written "\\u0000")
        _refuse_nul(raw)
    kind = type_ or raw.get("type")
    event_type = TYPES.get(kind) if isinstance(kind, str) else None
    if event_type is None:
        raise InvalidMessage(f"type must be one of {', '.join(EventType)}")
    user_id = _identifier(raw, "userId")
    anonymous_id = _identifier(raw, "anonymousId")
    if user_id is None and anonymous_id is None:
        raise InvalidMessage("needs a userId or an anonymousId")
    for field in REQUIRED.get(event_type, ()):
        if _identifier(raw, field) is None:
            raise InvalidMessage(f"{event_type} needs {field}")
    for field in PARTS:
        if field in raw and not isinstance(raw[field], dict):
            raise InvalidMessage(f"{field} must be an object")
    name = raw.get("event") if event_type is EventType.track else raw.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_ID_LENGTH):
        raise InvalidMessage(
            f"event or name must be a string of at most {MAX_ID_LENGTH} characters"
        )
    message_id = message_id_for(raw)  # of the message as sent, so resends hash the same
    if raw.get("type") != kind:  # a single call's type comes from the endpoint, not the body
        raw = {**raw, "type": kind}
        text = orjson.dumps(raw)
    timestamp = corrected_time(raw, received_at=received_at, batch_sent_at=batch_sent_at)
    return Message(  # positional: a named tuple builds faster so, once per event
        message_id,
        event_type,
        name,
        _channel(raw, default_channel),
        anonymous_id,
        user_id,
        timestamp,
        raw,
        text.decode(),
    )
