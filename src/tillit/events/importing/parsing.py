"""A chunk of a file's lines into a batch to store: pure and CPU-bound, so a worker process
may do it (tillit.events.importing.chunks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from tillit.events import ingest
from tillit.events.tracking import Batch
from tillit.identity.resolve import links_for
from tillit.identity.rules import IdentityRules
from tillit.vocabulary import SourceChannel


class NotJson(str):
    """A line that did not decode, as the reason why (a JSON string literal is not this)."""


@dataclass
class ParsedChunk:
    """A chunk's lines after parsing: what the store needs, nothing that touches a database."""

    lines: list[int]
    # The valid messages, each messageId once: ``batch.links`` stand as long as no message is
    # a resend (see ingest.store).
    batch: Batch
    rejected: list[tuple[int, str]]  # (line number, reason)
    repeats: list[str]  # messageIds that came again later in the chunk, not kept again


def parse_chunk(
    chunk: list[tuple[int, Any]],
    *,
    channel: SourceChannel,
    received_at: datetime,
    rules: IdentityRules,
    default_country: str,
) -> ParsedChunk:
    """Parse one chunk of (line number, decoded item, or raw JSON line as bytes)."""
    lines = [number for number, _ in chunk]
    items = [_decoded(item) for _, item in chunk]
    messages, rejected = ingest.parse_all(
        items, type_=None, channel=channel, received_at=received_at
    )
    # parse_all says "must be a JSON object" of a line that was not JSON; say why it was not.
    reasons = [
        (lines[r.index], str(items[r.index]) if isinstance(items[r.index], NotJson) else r.reason)
        for r in rejected
    ]
    repeats: list[str] = []
    fresh = ingest.without_repeats(messages, repeats)
    links = links_for(fresh, rules=rules, default_country=default_country)
    batch = Batch(received_at, list(enumerate(fresh)), links=links)
    return ParsedChunk(lines, batch, reasons, repeats)


def _decoded(item: Any) -> Any:
    if not isinstance(item, bytes):
        return item
    try:
        return orjson.loads(item)
    except orjson.JSONDecodeError as error:
        return NotJson(f"not JSON: {error}")
