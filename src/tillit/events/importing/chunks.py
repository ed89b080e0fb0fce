"""A file's chunks, parsed, in file order. A JSON Lines file of PARALLEL_MIN_BYTES or more is
parsed by worker processes a few chunks ahead of the store; each writes its chunk's messages
to a staging file of its own (tillit.events.staging) rather than sending them back."""

from __future__ import annotations

import gc
import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from tillit.cores import available_cores
from tillit.events import ingest, staging
from tillit.events.importing.files import csv_chunks, line_blocks, numbered
from tillit.events.importing.parsing import ParsedChunk, parse_chunk
from tillit.events.tracking import Staged
from tillit.identity.rules import IdentityRules
from tillit.storage.base import utcnow
from tillit.vocabulary import SourceChannel

CHUNK_LINES = 10_000
# Below this a worker process costs more to start than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
YOUNG_GENERATION = 200_000  # objects; see few_collections


@contextmanager
def few_collections() -> Iterator[None]:
    """A chunk holds ~10 objects a line until it is stored. At the default threshold (700
    allocations) most of them survive a young collection, are promoted and scanned again by
    the older ones: ~20% of the import's time. A young generation larger than a chunk lets
    them die young. Restored afterwards (the setting is process-wide)."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def parsed_chunks(
    path: Path,
    after: int,
    channel: SourceChannel,
    rules: IdentityRules,
    country: str,
    workers: int | None,
    bind_timestamp: Callable[[datetime], Any] | None,
) -> Iterator[ParsedChunk]:
    """``bind_timestamp``: how the workers write timestamps to their staging files (None:
    as ISO 8601 text; see staging.write)."""
    count = worker_count(path, workers)
    if count == 0:
        if path.suffix.lower() == ".csv":
            chunks = csv_chunks(path, CHUNK_LINES, after)
        else:
            chunks = (numbered(*block) for block in line_blocks(path, CHUNK_LINES, after))
        for chunk in chunks:
            yield parse_chunk(
                chunk,
                channel=channel,
                received_at=utcnow(),
                rules=rules,
                default_country=country,
            )
        return
    # fork: the workers start at once with the modules already imported and the rules as
    # they are here (nothing is pickled but chunks and results). They run only the pure
    # functions of parsing and write their own staging files; they never touch the parent's
    # database connections or threads.
    context = multiprocessing.get_context("fork")
    with (
        tempfile.TemporaryDirectory(prefix="tillit-import-") as scratch,
        ProcessPoolExecutor(
            count,
            mp_context=context,
            initializer=_start_worker,
            initargs=(rules, country, channel, bind_timestamp),
        ) as pool,
    ):
        pending: deque[Future[ParsedChunk]] = deque()
        for first, block in line_blocks(path, CHUNK_LINES, after):
            staged = Path(scratch) / f"lines-{first}.db"
            pending.append(pool.submit(_parse_in_worker, first, block, utcnow(), staged))
            if len(pending) > 2 * count:  # enough read ahead to keep every worker busy
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def worker_count(path: Path, workers: int | None) -> int:
    if path.suffix.lower() == ".csv" or "fork" not in multiprocessing.get_all_start_methods():
        return 0  # CSV rows are cheap to parse; the workers take JSON Lines
    if workers is not None:
        return max(0, workers)
    if path.stat().st_size < PARALLEL_MIN_BYTES:
        return 0
    # As many as the cores, not one fewer: the storing process copies each worker's staging
    # file in C and waits on the workers a third of the time. On 2 cores, 200,000 events:
    # 95-97k events/s with one worker, 109-117k with two.
    return available_cores()


_WORKER: dict[str, Any] = {}


def _start_worker(
    rules: IdentityRules,
    country: str,
    channel: SourceChannel,
    bind_timestamp: Callable[[datetime], Any] | None,
) -> None:
    gc.set_threshold(YOUNG_GENERATION, *gc.get_threshold()[1:])  # as in few_collections
    _WORKER.update(rules=rules, country=country, channel=channel, bind=bind_timestamp)


def _parse_in_worker(
    first: int, block: list[bytes], received_at: datetime, staged: Path
) -> ParsedChunk:
    """parse_chunk, with the messages written to ``staged`` rather than sent back: what
    crosses the process boundary is small (line numbers, links, rejections)."""
    parsed = parse_chunk(
        numbered(first, block),
        channel=_WORKER["channel"],
        received_at=received_at,
        rules=_WORKER["rules"],
        default_country=_WORKER["country"],
    )
    batch = parsed.batch
    if batch.messages:
        fresh = [m for _, m in batch.messages]
        count = staging.write(staged, fresh, _WORKER["bind"])
        keys = sorted(ingest.event_keys(fresh))
        batch.staged = Staged(staged, count, keys, bound=_WORKER["bind"] is not None)
        batch.messages = []
    return parsed
