"""The event lake: events copied to Parquet, one folder per day, for DuckDB, Spark or Trino.

Layout: ``data_dir/lake/events/date=YYYY-MM-DD/part-<first id>.parquet`` (Hive partitioning).
A watermark row remembers the last exported event id. Each run names its files after the id it
started from, so a run that dies after writing files but before moving the watermark is simply
repeated: it rewrites the same files (with the same or more rows), never a second copy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from tillit.events.models import Event, LakeWatermark
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

STREAM = "events"
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("source_id", pa.int64()),
        ("message_id", pa.string()),
        ("type", pa.string()),
        ("name", pa.string()),
        ("channel", pa.string()),
        ("anonymous_id", pa.string()),
        ("user_id", pa.string()),
        ("customer_id", pa.int64()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("payload", pa.string()),
    ]
)
COLUMNS = [c for c in SCHEMA.names if c != "payload"]


@dataclass
class ExportReport:
    events: int
    files: list[Path]
    watermark: int


def lake_root(data_dir: Path) -> Path:
    return data_dir / "lake" / "events"


def export_events(
    *, sessions: SessionFactory, data_dir: Path, batch: int = 200_000, settle_seconds: int = 0
) -> ExportReport:
    """Exports events newer than the watermark. ``settle_seconds`` leaves out the newest events,
    because on PostgreSQL a lower id can commit after a higher one."""
    with sessions() as session:
        mark = session.get(LakeWatermark, STREAM)
        start = mark.last_event_id if mark else 0
        query = select(*[getattr(Event, c) for c in COLUMNS], Event.payload).where(Event.id > start)
        if settle_seconds:
            query = query.where(Event.received_at < utcnow() - timedelta(seconds=settle_seconds))
        rows = session.execute(query.order_by(Event.id).limit(batch)).all()
    if not rows:
        return ExportReport(0, [], start)
    files = _write_days(rows, lake_root(data_dir), first_id=start + 1)
    last = rows[-1][0]
    with sessions() as session, session.begin():
        mark = session.get(LakeWatermark, STREAM) or LakeWatermark(name=STREAM)
        mark.last_event_id = last
        session.add(mark)
    return ExportReport(len(rows), files, last)


def _write_days(rows: Sequence[Any], root: Path, *, first_id: int) -> list[Path]:
    by_day: dict[str, list[Any]] = {}
    for row in rows:
        by_day.setdefault(row[9].date().isoformat(), []).append(row)
    written = []
    for day, day_rows in sorted(by_day.items()):
        columns = list(zip(*day_rows, strict=True))
        arrays = {name: list(columns[i]) for i, name in enumerate(COLUMNS)}
        arrays["payload"] = [orjson.dumps(p).decode() for p in columns[len(COLUMNS)]]
        table = pa.table(arrays, schema=SCHEMA)
        folder = root / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"part-{first_id:012d}.parquet"
        temporary = target.with_suffix(".parquet.tmp")
        pq.write_table(table, temporary, compression="zstd")
        os.replace(temporary, target)  # readers never see half a file
        written.append(target)
    return written


def connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view ``events`` over the lake (parquet is built in)."""
    connection = duckdb.connect()
    # DDL takes no parameters; the path is the installation's own data_dir, quotes doubled.
    pattern = str(lake_root(data_dir) / "*" / "*.parquet").replace("'", "''")
    if any(lake_root(data_dir).glob("*/*.parquet")):
        connection.execute(
            f"CREATE VIEW events AS SELECT * FROM read_parquet('{pattern}', hive_partitioning=true)"  # noqa: S608
        )
    else:
        columns = ", ".join(f"NULL::{_duck_type(f.type)} AS {f.name}" for f in SCHEMA)
        connection.execute(
            f"CREATE VIEW events AS SELECT {columns}, NULL::DATE AS date WHERE false"
        )
    return connection


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    return "VARCHAR"
