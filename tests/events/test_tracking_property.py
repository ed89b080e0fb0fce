"""Property: whatever mix of valid and invalid Segment messages a batch holds, /v1/batch stores
each valid one exactly once (a resent batch stores nothing new) and rejects each invalid one
alone, at its index, with its reason; it never answers 5xx. On every database."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tillit.events.models import Event, EventType
from tillit.storage.session import SessionFactory

Message = dict[str, Any]
RUN = uuid.uuid4().hex[:8]
SERIAL = itertools.count(1)  # message ids unique across examples: the database is kept
NOW = datetime.now(UTC)

# Text as senders write it: any Unicode but NUL, and now and then a literal "\u0000".
letters = st.characters(codec="utf-8", exclude_characters="\x00")
text = st.text(letters, max_size=30) | st.just("C:\\u0000")
ids = text.map(lambda s: f"id-{s}"[:200]) | st.integers(-(2**63), 2**63 - 1)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
times = st.datetimes(datetime(2000, 1, 1), datetime(2026, 1, 1), timezones=zones)
REQUIRED = {"track": "event", "group": "groupId", "alias": "previousId"}


@st.composite
def valid_messages(draw: st.DrawFn) -> Message:
    kind = draw(st.sampled_from([str(t) for t in EventType]))
    message: Message = {"type": kind, "userId": draw(ids)}
    if kind != "alias" and draw(st.booleans()):
        message["anonymousId"] = draw(ids)
        if draw(st.booleans()):
            del message["userId"]
    if kind in REQUIRED:
        message[REQUIRED[kind]] = draw(ids) if kind != "track" else f"E {draw(text)}"
    elif draw(st.booleans()):
        message["name"] = draw(text)
    message["properties"] = draw(st.dictionaries(text, json_values, max_size=4))
    if draw(st.booleans()):
        message["traits"] = {"email": draw(st.emails() | text), "plan": draw(json_values)}
    if draw(st.booleans()):
        happened = draw(times)
        message["timestamp"] = happened.isoformat()
        if draw(st.booleans()):  # queued on the device for up to a month
            gap = draw(st.timedeltas(timedelta(0), timedelta(days=30)))
            message["sentAt"] = (happened + gap).isoformat()
    if draw(st.booleans()):
        message["context"] = {"channel": draw(st.sampled_from(["browser", "mobile", "sms"]))}
    return message


def _timed(**fields: object) -> Callable[[Message], Message]:
    """A message whose times are these (its own left out: they could move the result)."""
    times = ("timestamp", "originalTimestamp", "sentAt")
    return lambda m: {**{k: v for k, v in m.items() if k not in times}, **fields}


def _with_nul(place: str) -> Callable[[Message], Message]:
    changes: dict[str, Callable[[Message], Message]] = {
        "value": lambda m: {**m, "properties": {**m["properties"], "note": "a\x00b"}},
        "key": lambda m: {**m, "properties": {**m["properties"], "k\x00": 1}},
        "nested": lambda m: {**m, "context": {"tags": ["ok", ["\x00"]]}},
        "anonymousId": lambda m: {**m, "anonymousId": "anon\x00"},
    }
    return changes[place]


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _without(*fields: str) -> Callable[[Message], Message]:
    return lambda m: {k: v for k, v in m.items() if k not in fields}


# Each way to spoil a valid message, and what its rejection must say.
SPOILERS: dict[str, tuple[Callable[[Message], Any], str]] = {
    "unknown type": (lambda m: {**m, "type": "shout"}, "type must be one of"),
    "no ids": (_without("userId", "anonymousId"), "needs a userId or an anonymousId"),
    "fractional userId": (lambda m: {**m, "userId": 4.5}, "userId must be a string or an"),
    "boolean userId": (lambda m: {**m, "userId": True}, "userId must be a string or an"),
    "list messageId": (lambda m: {**m, "messageId": ["m"]}, "messageId must be a string or"),
    "long anonymousId": (lambda m: {**m, "anonymousId": "a" * 201}, "at most 200 characters"),
    "properties a list": (lambda m: {**m, "properties": [1]}, "properties must be an object"),
    "oversize": (lambda m: {**m, "properties": {"pad": "x" * 33_000}}, "bytes per event"),
    "not an object": (lambda m: [m], "must be a JSON object"),
    "nested too deep": (lambda m: {**m, "properties": {"p": _nested(260)}}, "over 254 deep"),
    "year 1 east of UTC": (_timed(timestamp="0001-01-01T00:00:00+14:00"), "in UTC"),
    "year 9999 west of UTC": (_timed(timestamp="9999-12-31T23:59:59-14:00"), "in UTC"),
    "timestamp a number": (_timed(timestamp=1_700_000_000), "must be an ISO 8601 string"),
    "timestamp not a date": (_timed(timestamp="last tuesday"), "not an ISO 8601 date-time"),
    "in the year 4049": (_timed(timestamp="4049-01-01T00:00:00Z"), "more than 1 day after"),
    "before 1970": (_timed(originalTimestamp="1969-07-20T20:17:40Z"), "before 1970"),
    "sentAt in year 1": (
        _timed(timestamp=NOW.isoformat(), sentAt="0001-01-02T00:00:00Z"),
        "more than 1 day after",
    ),
    "sentAt in year 9999": (
        _timed(timestamp=NOW.isoformat(), sentAt="9999-12-31T00:00:00Z"),
        "falls outside the years 1 to 9999",
    ),
    **{
        f"NUL in {place}": (_with_nul(place), "must not contain the NUL character (U+0000)")
        for place in ("value", "key", "nested", "anonymousId")
    },
}
spoiled = st.tuples(valid_messages(), st.sampled_from(sorted(SPOILERS))).map(
    lambda pair: (SPOILERS[pair[1]][0](pair[0]), SPOILERS[pair[1]][1])
)
# (message, None) when valid; (message, what its rejection says) when not.
items = st.one_of(valid_messages().map(lambda m: (m, None)), spoiled)


def _with_ids(batch: list[tuple[Any, str | None]], style: list[str]) -> list[Any]:
    """Gives every message a fresh messageId (text or integer); a few valid ones get none,
    with content of their own, so that their content hash is theirs alone."""
    messages = []
    for (message, _), how in zip(batch, style, strict=True):
        if isinstance(message, dict) and "messageId" not in message:
            serial = next(SERIAL)
            if how == "integer":
                message = {**message, "messageId": serial}
            elif how == "none" and isinstance(message.get("properties"), dict):
                message = {**message, "properties": {**message["properties"], RUN: serial}}
            else:
                message = {**message, "messageId": f"{RUN}-{serial}"}
        messages.append(message)
    return messages


@settings(
    max_examples=50,
    deadline=None,
    # The database is shared by the examples on purpose: each example's ids are its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(items, min_size=1, max_size=8),
    style=st.lists(st.sampled_from(["text", "integer", "none"]), min_size=8, max_size=8),
    batch_sent_at=st.booleans(),
)
def test_valid_messages_are_stored_once_and_invalid_ones_rejected_alone(
    client: TestClient,
    write_key: str,
    sessions: SessionFactory,
    batch: list[tuple[Any, str | None]],
    style: list[str],
    batch_sent_at: bool,
) -> None:
    messages = _with_ids(batch, style[: len(batch)])
    body: dict[str, Any] = {"batch": messages}
    if batch_sent_at:
        body["sentAt"] = datetime.now(UTC).isoformat()
    valid = [i for i, (_, reason) in enumerate(batch) if reason is None]
    before = _count(sessions)

    answer = client.post("/v1/batch", json=body, auth=(write_key, ""))
    rejected = _rejections(answer, valid=bool(valid))
    assert sorted(rejected) == [i for i, (_, reason) in enumerate(batch) if reason]
    for index, message in rejected.items():
        expected = batch[index][1]
        assert expected and expected in message, (index, message, messages[index])
    if valid:
        assert (answer.json()["accepted"], answer.json()["duplicates"]) == (len(valid), 0)
    assert _count(sessions) == before + len(valid)
    given_ids = [str(messages[i]["messageId"]) for i in valid if "messageId" in messages[i]]
    with sessions() as session:
        stored = session.scalars(select(Event.message_id).where(Event.message_id.in_(given_ids)))
        assert sorted(stored) == sorted(given_ids)

    again = client.post("/v1/batch", json=body, auth=(write_key, ""))
    assert _rejections(again, valid=bool(valid)).keys() == rejected.keys()
    if valid:
        assert (again.json()["accepted"], again.json()["duplicates"]) == (0, len(valid))
    assert _count(sessions) == before + len(valid)


def _rejections(answer: Any, *, valid: bool) -> dict[int, str]:
    """index -> reason, from a 200 (something was valid) or a 400 problem (nothing was)."""
    assert answer.status_code == (200 if valid else 400), answer.text
    listed = answer.json()["rejected" if valid else "errors"]
    return {r["index"]: r["message"] for r in listed}


def _count(sessions: SessionFactory) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0
