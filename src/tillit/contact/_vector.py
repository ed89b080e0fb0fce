"""NumPy kernels over Arrow buffers for :mod:`tillit.contact.batch`.

List columns are handled through their offsets: a cumulative sum over the flattened values
turns "how many matching elements in row i" into two gathers, with no Python loop and no
per-row objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tillit.contact import clock

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


def list_offsets(array: pa.ListArray) -> Ints:
    offsets: Ints = array.offsets.to_numpy().astype(np.int64)
    rebased: Ints = offsets - offsets[0]
    return rebased  # a sliced list array's offsets do not start at zero


def list_values(array: pa.ListArray) -> pa.Array:
    """The child values that ``list_offsets`` indexes into.

    Unlike ``flatten()``, this keeps values hidden under null list slots (Arrow allows a null
    slot to span values), so the offsets stay valid indices.
    """
    offsets = array.offsets
    first, last = offsets[0].as_py(), offsets[-1].as_py()
    return array.values.slice(first, last - first)


def _row_counts(hits: Bools, offsets: Ints) -> Ints:
    cumulative = np.zeros(len(hits) + 1, dtype=np.int64)
    np.cumsum(hits, out=cumulative[1:])
    return cumulative[offsets[1:]] - cumulative[offsets[:-1]]


def list_contains(array: pa.ListArray, value: str) -> Bools:
    """Per row: does the list hold ``value``? (A null list holds nothing.)"""
    hits = pc.equal(list_values(array), value).fill_null(False)
    counts = _row_counts(hits.to_numpy(zero_copy_only=False), list_offsets(array))
    found: Bools = (counts > 0) & bools(array.is_valid())
    return found


def bools(array: pa.Array) -> Bools:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.bool_)


def ints(array: pa.Array, *, null: int) -> Ints:
    return np.asarray(array.fill_null(null).to_numpy(zero_copy_only=False), dtype=np.int64)


def timestamps_us(array: pa.Array, *, null: int) -> Ints:
    return ints(array.cast(pa.int64()), null=null)


def in_quiet(time_of_day: Ints, start_minute: Ints, end_minute: Ints) -> Bools:
    start = start_minute * clock.US_PER_MINUTE
    end = end_minute * clock.US_PER_MINUTE
    inside = (time_of_day >= start) & (time_of_day < end)
    wraps = (time_of_day >= start) | (time_of_day < end)
    result: Bools = np.where(start < end, inside, wraps)
    return result


def quiet_hours(
    tz_codes: Ints, tz_names: list[str], start: Ints, end: Ints, at_us: int
) -> tuple[Bools, Ints]:
    """Rows inside quiet hours at ``at_us`` and when those hours end (µs, UTC).

    Offsets are looked up once per zone. Where a zone changes offset within the next day the
    end is computed by :func:`clock.quiet_hours_end_us` once per distinct (zone, window);
    elsewhere the wall clock is linear and the end is one vector expression.
    """
    offsets = np.array([clock.offset_us(name, at_us) for name in tz_names], dtype=np.int64)
    shifting = np.array(
        [clock.next_transition_us(name, at_us, clock.US_PER_DAY) is not None for name in tz_names],
        dtype=np.bool_,
    )
    time_of_day = (at_us + offsets[tz_codes]) % clock.US_PER_DAY
    quiet = (start >= 0) & in_quiet(time_of_day, start, end)
    until = at_us + (end * clock.US_PER_MINUTE - time_of_day) % clock.US_PER_DAY
    if shifting.any():
        rows = np.flatnonzero(quiet & shifting[tz_codes])
        keys = np.stack([tz_codes[rows], start[rows], end[rows]], axis=1)
        distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
        ends = [
            clock.quiet_hours_end_us(tz_names[int(code)], at_us, int(s), int(e))
            for code, s, e in distinct
        ]
        lookup = np.array([-1 if x is None else x for x in ends], dtype=np.int64)
        until[rows] = lookup[inverse.reshape(-1)]
        quiet[rows] = lookup[inverse.reshape(-1)] >= 0
    return quiet, until


@dataclass
class SendHistory:
    """Flattened capped sends (ascending within each row) and their row offsets."""

    at: Ints
    channel: npt.NDArray[np.uint8]
    offsets: Ints
    at_us: int
    _cumulative: dict[tuple[int, int], npt.NDArray[np.int32]] = field(default_factory=dict)

    def _window_cumsum(self, channel_code: int, length_us: int) -> npt.NDArray[np.int32]:
        """Cumulative count of sends in ``(at - length, at]`` on a channel (-1: any)."""
        key = (channel_code, length_us)
        if key not in self._cumulative:
            hits = (self.at > self.at_us - length_us) & (self.at <= self.at_us)
            if channel_code >= 0:
                hits &= self.channel == channel_code
            # int32 halves the memory traffic; a batch never holds 2**31 sends per call.
            cumulative = np.zeros(len(hits) + 1, dtype=np.int32)
            np.cumsum(hits, out=cumulative[1:])
            self._cumulative[key] = cumulative
        return self._cumulative[key]

    def cap(self, limits: Ints, channel_code: int, length_us: int) -> tuple[Bools, Bools, Ints]:
        """Per row: denied (limit 0 reached), deferred, and when the cap frees (µs).

        ``limits`` is -1 where a row has no such cap. The cap frees when the oldest
        ``count - limit + 1`` sends in the window have left it; since sends are ascending,
        that is the send whose in-window rank is ``count - limit + 1``, found by bisecting the
        (non-decreasing) cumulative count.
        """
        cumulative = self._window_cumsum(channel_code, length_us)
        before = cumulative[self.offsets[:-1]].astype(np.int64)
        count = cumulative[self.offsets[1:]] - before
        full = (limits >= 0) & (count >= limits)
        denied = full & (limits == 0)
        deferred = full & (limits > 0)
        frees = np.full(len(limits), self.at_us, dtype=np.int64)
        rows = np.flatnonzero(deferred)
        # Same dtype as ``cumulative``: a wider needle makes searchsorted copy the haystack.
        target = (before[rows] + count[rows] - limits[rows] + 1).astype(cumulative.dtype)
        position = np.searchsorted(cumulative, target, side="left") - 1
        frees[rows] = self.at[position] + length_us
        return denied, deferred, frees
