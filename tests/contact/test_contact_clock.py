"""Quiet-hour ends checked against a minute-by-minute walk of the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from test_contact_batch import ANCHORS, DAY_MINUTES, EDGE_MINUTES, ZONES

from tillit.contact import clock


def walk_to_quiet_end(at: datetime, zone: str, start: int, end: int) -> datetime | None:
    """The first minute whose local wall clock is outside the window (None: not quiet now)."""
    tz = ZoneInfo(zone)
    for step in range(3 * DAY_MINUTES):
        moment = at + timedelta(minutes=step)
        local = moment.astimezone(tz)
        minute = local.hour * 60 + local.minute
        quiet = start <= minute < end if start < end else minute >= start or minute < end
        if not quiet:
            return None if step == 0 else moment
    raise AssertionError("quiet hours never ended")


@settings(max_examples=150, deadline=None)
@given(
    anchor=st.sampled_from(ANCHORS),
    minutes=st.integers(-2 * DAY_MINUTES, 2 * DAY_MINUTES),
    zone=st.sampled_from(ZONES),
    start=st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, DAY_MINUTES - 1)),
    end=st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, DAY_MINUTES - 1)),
)
def test_quiet_hours_end_is_the_first_minute_outside_the_window(
    anchor: datetime, minutes: int, zone: str, start: int, end: int
) -> None:
    if start == end:
        return
    at = anchor + timedelta(minutes=minutes)
    got = clock.quiet_hours_end_us(zone, clock.to_us(at), start, end)
    expected = walk_to_quiet_end(at, zone, start, end)
    assert got == (None if expected is None else clock.to_us(expected))


def test_next_transition_finds_the_exact_instant() -> None:
    before = clock.to_us(datetime.fromisoformat("2025-03-29T12:00:00+00:00"))
    found = clock.next_transition_us("Europe/Oslo", before, clock.US_PER_DAY)
    assert found == clock.to_us(datetime.fromisoformat("2025-03-30T01:00:00+00:00"))
    assert clock.next_transition_us("UTC", before, clock.US_PER_DAY) is None
