"""The hour at which a customer engages most, learned from their own events, and the instant a
message planned for that hour goes: pure functions over whole columns.

A customer's best hour is the mode of the local hours (in their own time zone, daylight saving
included) of their events over the last :data:`LOOKBACK_DAYS`; a tie goes to the earlier hour.
A customer without events has none (-1) and gets the default send time. The planner
(:func:`tillit.campaigns.planning.plan_rows`) moves a message to the next such hour at or after
the round, then asks the contact policy again for that instant: quiet hours move it to their
end, inside the customer's window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tillit.contact import clock

LOOKBACK_DAYS = 90
NO_HOUR = -1


def zone_codes(column: pa.ChunkedArray | pa.Array) -> tuple[npt.NDArray[np.int64], list[str]]:
    """A time-zone column as (index per row, zone names)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    names = [str(name) for name in array.dictionary.to_pylist()]
    return np.asarray(array.indices.to_numpy(zero_copy_only=False), np.int64), names


def best_hours(
    *,
    rows: npt.NDArray[np.int64],
    timestamps_us: npt.NDArray[np.int64],
    zones: npt.NDArray[np.int64],
    zone_names: list[str],
) -> npt.NDArray[np.int8]:
    """Per customer row, the local hour (0-23) of most of their events, or :data:`NO_HOUR`.

    ``rows`` and ``timestamps_us`` are one entry per event (the customer's row and the instant);
    ``zones`` is one entry per customer row, an index into ``zone_names``."""
    count = len(zones)
    if len(rows) == 0:
        return np.full(count, NO_HOUR, np.int8)
    # The offset changes only on whole hours in practice, so one lookup per (zone, UTC hour).
    hour_start = timestamps_us - timestamps_us % clock.US_PER_HOUR
    event_zones = zones[rows]
    pairs, inverse = np.unique(np.stack([event_zones, hour_start]), axis=1, return_inverse=True)
    offsets = np.array([clock.offset_us(zone_names[int(z)], int(h)) for z, h in pairs.T], np.int64)[
        np.ravel(inverse)
    ]
    local_hour = ((timestamps_us + offsets) // clock.US_PER_HOUR) % 24
    counts = np.zeros((count, 24), np.int64)
    np.add.at(counts, (rows, local_hour), 1)
    hours = np.argmax(counts, axis=1).astype(np.int8)  # the first, so the earlier, of a tie
    hours[counts.sum(axis=1) == 0] = NO_HOUR
    return hours


def next_local_hour(at: datetime, zone: str, hour: int) -> datetime:
    """The first instant at or after ``at`` when the wall clock in ``zone`` shows ``hour``:00
    (in a spring-forward gap, the instant the clock jumps past it)."""
    local = at.astimezone(ZoneInfo(zone))
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate < local:
        candidate = (candidate + timedelta(days=1)).replace(hour=hour)
    return max(candidate, at)


def best_hour_instants_us(
    *,
    at: datetime,
    hours: npt.NDArray[np.int8],
    zones: npt.NDArray[np.int64],
    zone_names: list[str],
) -> npt.NDArray[np.int64]:
    """Per row, the instant of its next best hour at or after ``at`` (``at`` itself for a row
    without a best hour)."""
    instants = np.full(len(hours), clock.to_us(at), np.int64)
    has = hours >= 0
    if not has.any():
        return instants
    keys = zones[has] * 24 + hours[has].astype(np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    found = np.array(
        [
            clock.to_us(next_local_hour(at, zone_names[int(key) // 24], int(key) % 24))
            for key in unique
        ],
        np.int64,
    )
    instants[has] = found[np.ravel(inverse)]
    return instants
