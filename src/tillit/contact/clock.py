"""Time-zone arithmetic shared by the per-customer and the batch policy.

Instants are integer microseconds since the Unix epoch (UTC), the same unit as the batch
schema's ``timestamp[us, UTC]`` columns, so both forms compute with identical numbers.

Quiet hours are a local wall-clock window. Their end is defined as *the earliest instant at
or after the decision whose local wall-clock time lies outside the window*. Between two UTC
offset transitions the wall clock moves linearly, so that instant is either the moment the
wall clock reaches ``end`` or a transition that makes the clock jump out of the window (a
spring-forward gap over ``end``, or a fall-back that repeats an earlier hour).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# Real zones never change offset twice within an hour, so hourly probes find every change.
_PROBE_US = US_PER_HOUR
# Quiet hours last under a day, so the wall clock leaves them within a day plus any DST jump.
_MAX_SEGMENTS = 8


def to_us(at: datetime) -> int:
    return (at - _EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def duration_us(length: timedelta) -> int:
    return length // _ONE_US


@lru_cache(maxsize=4096)
def offset_us(tz_name: str, at_us: int) -> int:
    """The zone's UTC offset at an instant, in microseconds."""
    offset = from_us(at_us).astimezone(ZoneInfo(tz_name)).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return offset // _ONE_US


def local_time_of_day_us(tz_name: str, at_us: int) -> int:
    return (at_us + offset_us(tz_name, at_us)) % US_PER_DAY


@lru_cache(maxsize=4096)
def next_transition_us(tz_name: str, at_us: int, horizon_us: int) -> int | None:
    """The first instant after ``at_us`` with another UTC offset, if within ``horizon_us``."""
    base = offset_us(tz_name, at_us)
    low = at_us
    while low - at_us < horizon_us:
        high = low + _PROBE_US
        if offset_us(tz_name, high) != base:
            # offset(low) == base != offset(high): bisect to the exact microsecond.
            while high - low > 1:
                middle = (low + high) // 2
                if offset_us(tz_name, middle) == base:
                    low = middle
                else:
                    high = middle
            return high if high - at_us <= horizon_us else None
        low = high
    return None


def in_quiet_window(time_of_day_us: int, start_minute: int, end_minute: int) -> bool:
    start = start_minute * US_PER_MINUTE
    end = end_minute * US_PER_MINUTE
    if start < end:
        return start <= time_of_day_us < end
    return time_of_day_us >= start or time_of_day_us < end  # spans midnight


def quiet_hours_end_us(tz_name: str, at_us: int, start_minute: int, end_minute: int) -> int | None:
    """When quiet hours in force at ``at_us`` end, or None when they are not in force."""
    segment_start = at_us
    for _ in range(_MAX_SEGMENTS):
        time_of_day = local_time_of_day_us(tz_name, segment_start)
        if not in_quiet_window(time_of_day, start_minute, end_minute):
            return None if segment_start == at_us else segment_start
        reaches_end = segment_start + (end_minute * US_PER_MINUTE - time_of_day) % US_PER_DAY
        transition = next_transition_us(tz_name, segment_start, US_PER_DAY)
        if transition is None or reaches_end < transition:
            return reaches_end
        segment_start = transition
    raise RuntimeError(f"quiet hours in {tz_name} never end")  # pragma: no cover
