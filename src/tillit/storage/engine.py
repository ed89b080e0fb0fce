"""Engine creation: SQLite in WAL mode with foreign keys, PostgreSQL through psycopg 3."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tillit.storage.write_lock import LockingConnection, WriteLock

READ_ONLY = "tillit_read_only"  # an execution option: this connection will not write
# Pages of write-ahead log after which a commit checkpoints (SQLite's default, set explicitly
# so that tillit.storage.group can put it back after turning it off).
WAL_AUTOCHECKPOINT = 1000
BUSY_TIMEOUT_SECONDS = 30  # how long a writer waits for its turn before it fails


def _json_text(value: Any) -> str:
    """JSON columns through orjson (several times faster on the ingest path), falling back to
    the standard library for what orjson refuses (integers past 64 bits, say)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def make_engine(url: str, *, echo: bool = False, pooled: bool = True) -> Engine:
    """``pooled=False`` opens a connection per checkout: right for short-lived commands."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo, pooled=pooled)
    if parsed.drivername == "postgresql":
        # Plain postgresql:// would pick psycopg2, which we do not ship.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not pooled:
        return create_engine(url, echo=echo, poolclass=NullPool, json_serializer=_json_text)
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        json_serializer=_json_text,
    )


def _sqlite_engine(url: str, *, echo: bool, pooled: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "factory": LockingConnection},
        json_serializer=_json_text,
        **extra,
    )
    lock_file = Path(f"{database}.write-lock") if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy own transactions: pysqlite's implicit BEGIN breaks SAVEPOINTs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable in WAL mode across application crashes (not power loss mid-fsync).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        cursor.close()
        if lock_file is not None:  # see tillit.storage.write_lock
            dbapi_connection.write_lock = WriteLock(lock_file)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking,
        # and in their turn (see tillit.storage.write_lock). Read-only sessions (session.py)
        # begin DEFERRED: in WAL mode readers never wait.
        # Straight to sqlite3: through exec_driver_sql a BEGIN costs as much as a small query.
        driver = connection.connection.driver_connection
        if connection.get_execution_options().get(READ_ONLY):
            driver.execute("BEGIN")
            return
        try:
            driver.begin_write(timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as error:  # as SQLAlchemy's, like an error of any statement
            raise DBAPIError.instance(
                "BEGIN IMMEDIATE", (), error, sqlite3.Error, dialect=engine.dialect
            ) from error

    return engine
