"""One person's timeline: their events on every channel and the merges of their profile,
newest first, keyset-paginated on (timestamp, id) so page 1,000 costs what page 1 does."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tillit.errors import FieldError, InvalidInput
from tillit.events.models import Channel, Event
from tillit.identity.merge import merges_for
from tillit.identity.models import Merge


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
    channel: Channel | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> TimelinePage:
    query = select(Event).where(Event.customer_id == customer_id)
    if channel:
        query = query.where(Event.channel == channel)
    if cursor:
        at, event_id = _decode(cursor)
        query = query.where(
            or_(Event.timestamp < at, and_(Event.timestamp == at, Event.id < event_id))
        )
    rows = list(
        session.scalars(query.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit + 1))
    )
    next_cursor = _encode(rows[limit - 1]) if len(rows) > limit else None
    merges = merges_for(session=session, customer_id=customer_id) if cursor is None else []
    return TimelinePage(rows[:limit], merges, next_cursor, {})


def _encode(event: Event) -> str:
    return base64.urlsafe_b64encode(f"{event.timestamp.isoformat()}|{event.id}".encode()).decode()


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(event_id)
    except ValueError as error:
        raise InvalidInput(FieldError("cursor", "is not a cursor this page gave out")) from error
