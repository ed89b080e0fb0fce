"""One person's timeline: their events on every channel and the merges of their profile,
newest first, keyset-paginated on (timestamp, id) so page 1,000 costs what page 1 does."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, union_all
from sqlalchemy.orm import Session

from tillit.errors import FieldError, InvalidInput
from tillit.events.models import Event
from tillit.identity.merge import merges_for
from tillit.identity.models import Merge
from tillit.vocabulary import SourceChannel


@dataclass(frozen=True)
class TimelinePage:
    events: list[Event]
    merges: list[Merge]
    next_cursor: str | None
    # Later areas (consents, feedback) add their items here, keyed by kind.
    extra: dict[str, list[object]]


def timeline(
    *,
    session: Session,
    customer_id: int,
    channel: SourceChannel | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> TimelinePage:
    conditions = [Event.customer_id == customer_id]
    if cursor:
        at, event_id = _decode(cursor)
        conditions.append(
            or_(Event.timestamp < at, and_(Event.timestamp == at, Event.id < event_id))
        )
    channels = [channel] if channel else list(SourceChannel)
    rows = list(session.scalars(_newest(conditions, channels, limit + 1)))
    next_cursor = _encode(rows[limit - 1]) if len(rows) > limit else None
    merges = merges_for(session=session, customer_id=customer_id) if cursor is None else []
    return TimelinePage(rows[:limit], merges, next_cursor, {})


def _newest(conditions: list[Any], channels: list[SourceChannel], count: int) -> Select[Event]:
    """The ``count`` newest events meeting ``conditions`` on any of ``channels``.

    ``event`` has one customer index, (customer, channel, timestamp, id): one index fewer for
    every insert to update. Each channel is a range of it, newest first, so the whole timeline
    is the ``count`` newest of each channel, merged: at most (channels x count) rows sorted,
    however many events the person has."""
    newest_first = (Event.timestamp.desc(), Event.id.desc())
    if len(channels) == 1:
        return (
            select(Event)
            .where(*conditions, Event.channel == channels[0])
            .order_by(*newest_first)
            .limit(count)
        )
    ranges = [
        select(Event.id, Event.timestamp)
        .where(*conditions, Event.channel == one)
        .order_by(*newest_first)
        .limit(count)
        .subquery()
        for one in channels
    ]
    merged = union_all(*(select(r.c.id, r.c.timestamp) for r in ranges)).subquery()
    return (
        select(Event)
        .join(merged, Event.id == merged.c.id)
        .order_by(merged.c.timestamp.desc(), merged.c.id.desc())
        .limit(count)
    )


def _encode(event: Event) -> str:
    return base64.urlsafe_b64encode(f"{event.timestamp.isoformat()}|{event.id}".encode()).decode()


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(event_id)
    except ValueError as error:
        raise InvalidInput(FieldError("cursor", "is not a cursor this page gave out")) from error
