"""Events in data requests: what the export shows, and how erasure reaches events, merges,
match suggestions and the Parquet lake. Registered with the consent area's registries."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tillit.consent.data_requests import register_exporter
from tillit.consent.erasure import register_eraser, register_file_eraser
from tillit.customers.models import Identity
from tillit.events.lake import lake_root
from tillit.events.models import Event
from tillit.identity.models import MatchSuggestion, Merge


@register_exporter("events")
def export_events(session: Session, customer_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Event).where(Event.customer_id == customer_id).order_by(Event.timestamp)
    )
    return [
        {
            "type": str(event.type),
            "name": event.name,
            "channel": str(event.channel),
            "timestamp": event.timestamp.isoformat(),
            "message_id": event.message_id,
            "properties": event.payload.get("properties", {}),
            "traits": event.payload.get("traits", {}),
        }
        for event in rows
    ]


@register_eraser("events")
def erase_events(session: Session, customer_id: int, needles: list[str]) -> int:
    """Events go whole: their payloads are free-form and cannot be trusted to anonymise."""
    keys = list(
        session.scalars(
            select(Identity.value).where(
                Identity.customer_id == customer_id,
                Identity.type.in_(["user_id", "anonymous_id"]),
            )
        )
    )
    # Their own events, and the events of their ids that nobody owns yet. An event of their
    # anonymous id that carries someone else's user id is that person's (a shared device).
    # The conditions are those of the partial indexes on ``event``, so no look-up walks it.
    condition = Event.customer_id == customer_id
    if keys:
        unowned = Event.customer_id.is_(None)
        condition = or_(
            condition,
            unowned & Event.user_id.is_not(None) & Event.user_id.in_(keys),
            unowned & Event.user_id.is_(None) & Event.anonymous_id.in_(keys),
        )
    events = session.execute(delete(Event).where(condition)).rowcount  # type: ignore[attr-defined]
    merges = session.execute(
        delete(Merge).where(
            or_(
                Merge.from_customer_id == customer_id,
                Merge.into_customer_id == customer_id,
            )
        )
    ).rowcount  # type: ignore[attr-defined]
    suggestions = session.execute(
        delete(MatchSuggestion).where(
            or_(
                MatchSuggestion.left_customer_id == customer_id,
                MatchSuggestion.right_customer_id == customer_id,
            )
        )
    ).rowcount  # type: ignore[attr-defined]
    return int(events + merges + suggestions)


@register_file_eraser("event_lake")
def erase_from_lake(data_dir: Path, customer_id: int, needles: list[str]) -> int:
    """Rewrite every lake file holding the person's rows (by customer, user or anonymous id,
    or any contact point in the payload) without them; each file is replaced atomically."""
    root = lake_root(data_dir)
    removed = 0
    for path in sorted(root.glob("date=*/*.parquet")) if root.exists() else []:
        table = pq.read_table(path)
        hit = pc.equal(table["customer_id"], customer_id)
        for column in ("user_id", "anonymous_id"):
            hit = pc.or_kleene(hit, pc.is_in(table[column], value_set=pa.array(needles)))
        for needle in needles:
            hit = pc.or_kleene(hit, pc.match_substring(table["payload"], needle))
        hit = pc.fill_null(hit, False)
        count = pc.sum(hit).as_py() or 0
        if not count:
            continue
        kept = table.filter(pc.invert(hit))
        temporary = path.with_suffix(".erasing")
        pq.write_table(kept, temporary)
        os.replace(temporary, path)
        removed += count
    return removed
