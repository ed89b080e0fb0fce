"""Events in data requests: what the export shows, and how erasure reaches events, merges,
match suggestions, the Parquet lake and the rejects files of imports. Listed in
``tillit.privacy.areas``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tillit.customers.models import Identity
from tillit.events.import_jobs import imports_dir
from tillit.events.lake import lake_root
from tillit.events.models import Event
from tillit.identity.models import MatchSuggestion, Merge
from tillit.privacy.rows import delete_rows

ERASED_TABLES = ("event", "identity_merge", "identity_match_suggestion")


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
    events = delete_rows(session, Event, condition)
    # A merge's snapshot holds the person; a suggestion that led to it is unlinked by
    # delete_rows (and deleted below when it names them).
    merges = delete_rows(
        session,
        Merge,
        or_(Merge.from_customer_id == customer_id, Merge.into_customer_id == customer_id),
    )
    suggestions = delete_rows(
        session,
        MatchSuggestion,
        or_(
            MatchSuggestion.left_customer_id == customer_id,
            MatchSuggestion.right_customer_id == customer_id,
        ),
    )
    return events + merges + suggestions


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


ERASED_REASON = "(erased)"


def erase_from_rejects(data_dir: Path, customer_id: int, needles: list[str]) -> int:
    """Rejects files keep a line number and a reason, and a reason may quote the value it
    refused (a contact point typed where a date belongs): such reasons become "(erased)".
    Each file is replaced atomically."""
    removed = 0
    for path in sorted(imports_dir(data_dir).glob("*.rejects.jsonl")):
        lines = path.read_bytes().splitlines()
        kept = [_without_needles(line, needles) for line in lines]
        changed = sum(a != b for a, b in zip(lines, kept, strict=True))
        if not changed:
            continue
        temporary = path.with_suffix(".erasing")
        temporary.write_bytes(b"".join(line + b"\n" for line in kept))
        os.replace(temporary, path)
        removed += changed
    return removed


def _without_needles(line: bytes, needles: list[str]) -> bytes:
    entry = orjson.loads(line)
    if not any(needle in str(entry.get("reason", "")) for needle in needles):
        return line
    return orjson.dumps({**entry, "reason": ERASED_REASON})
