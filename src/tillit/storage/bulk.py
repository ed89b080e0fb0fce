"""Plain DBAPI statements for the hot ingest path, on SQLite and PostgreSQL alike.

SQLAlchemy's compiler and type processors cost more than the database work when a statement
carries thousands of parameters (an ``IN`` list of message ids) or a batch inserts thousands of
rows. ``Bulk`` runs hand-written SQL through the session's own connection, so it stays inside
the session's transaction. A long list is one parameter: a JSON array read with ``json_each`` on
SQLite, an array compared with ``= ANY`` on PostgreSQL. Values must already be what the column
stores (see ``bind``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import Any

import orjson
from sqlalchemy import Column, Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tillit.storage.base import UtcDateTime


class Bulk:
    """Statements are templates, module constants of their callers (never input), with
    ``{p}`` for a parameter, ``{in_list}`` for ``IN`` a list given as one ``list_param`` and
    ``{json}`` for a JSON document given as text."""

    def __init__(self, session: Session) -> None:
        self.connection: Connection = session.connection()
        self.dialect = self.connection.dialect
        self.sqlite = self.dialect.name == "sqlite"
        self.marks = (
            {"p": "?", "in_list": "IN (SELECT value FROM json_each(?))", "json": "?"}
            if self.sqlite  # sqlite3's qmark style; psycopg's format style below
            else {"p": "%s", "in_list": "= ANY(%s)", "json": "CAST(%s AS jsonb)"}
        )

    def sql(self, template: str) -> str:
        return template.format(**self.marks)

    def list_param(self, values: Iterable[Any]) -> Any:
        values = list(values)
        return orjson.dumps(values).decode() if self.sqlite else values

    def rows(self, template: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        sql, values = self.sql(template), tuple(params)
        with self._cursor(sql, values) as cursor:
            cursor.execute(sql, values)
            return [tuple(row) for row in cursor.fetchall()]

    def execute(self, template: str, params: Sequence[Any] = ()) -> int:
        """One statement that returns no rows; returns the rows it changed."""
        sql, values = self.sql(template), tuple(params)
        with self._cursor(sql, values) as cursor:
            cursor.execute(sql, values)
            return int(cursor.rowcount)

    def many(self, template: str, rows: list[tuple[Any, ...]]) -> int:
        """One ``executemany``: sqlite3 steps through the rows in C, psycopg pipelines them.
        Returns the rows changed, summed over all (both drivers sum them)."""
        if not rows:
            return 0
        sql = self.sql(template)
        with self._cursor(sql, rows) as cursor:
            cursor.executemany(sql, rows)
            return int(cursor.rowcount)

    @contextmanager
    def _cursor(self, sql: str, params: Any) -> Iterator[Any]:
        """A cursor of the connection's own driver connection (so in its transaction), past
        SQLAlchemy's execution context, which costs more than a small statement itself; driver
        errors come out as SQLAlchemy's (IntegrityError, OperationalError ...) all the same."""
        cursor = self.connection.connection.cursor()
        try:
            yield cursor
        except self.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                sql, params, error, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from error
        finally:
            cursor.close()

    def insert(
        self, table: Table, rows: list[dict[str, Any]], *, returning_ids: bool = False
    ) -> list[int]:
        """Inserts ``rows`` as a Core insert would store them (the columns' Python-side defaults
        for what a row leaves out, then each type's bind processor) in one executemany, without
        compiling a statement per call. With ``returning_ids``, the new ids in row order: on
        SQLite the rows get the ids SQLite would give them one by one (max(id) + 1, ...: the
        write lock is held, and the tables have no AUTOINCREMENT), on PostgreSQL from
        ``RETURNING id``."""
        if not rows:
            return []
        ids: list[int] = []
        if returning_ids and self.sqlite:
            if table.dialect_options["sqlite"]["autoincrement"]:
                raise ValueError(f"{table.name} has AUTOINCREMENT: its ids are not max + 1")
            (last,) = self.rows(f"SELECT max(id) FROM {table.name}", ())[0]  # noqa: S608
            ids = list(range((last or 0) + 1, (last or 0) + 1 + len(rows)))
            rows = [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
        given = set().union(*rows)
        columns = [
            c
            for c in table.columns
            if c.name in given or (c.default is not None and not c.primary_key)
        ]
        binds = [self.bind(c) for c in columns]
        template = (  # names from the model's metadata, never from input
            f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['{p}'] * len(columns))})"
        )
        plan = [(c.name, _default_of(c), bind) for c, bind in zip(columns, binds, strict=True)]
        params = []
        for row in rows:  # plain loops: this runs once per value of every new row
            values = []
            for name, default, bind in plan:
                value = row[name] if name in row else default()
                values.append(bind(value) if bind else value)
            params.append(tuple(values))
        if not returning_ids or self.sqlite:
            self.many(template, params)
            return ids
        # psycopg runs an executemany with ``returning`` as one pipeline and keeps each row's
        # result set, in order: one round trip for the batch instead of one per row.
        sql = self.sql(template + " RETURNING id")
        with self._cursor(sql, params) as cursor:  # psycopg's, same transaction
            cursor.executemany(sql, params, returning=True)
            while True:
                ids.append(cursor.fetchone()[0])
                if not cursor.nextset():
                    break
        return ids

    def bind(self, column: Column[Any]) -> Any:
        """The column type's own bind processor for this dialect (None when values pass as they
        are), so hand-bound values are stored exactly as the ORM would store them."""
        return bind_processor(self.dialect, column)


LOOKUP_CHUNK = 2000  # values in one list parameter
UNION_PARTS = 8  # look-ups (a kind and a chunk of values) per statement, joined by UNION ALL


def lookups(
    bulk: Bulk, templates: dict[str, str], wanted: dict[str, list[str]], *, typed: bool
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``templates[kind]`` for each kind's values, in as few statements as it takes:
    one per UNION_PARTS look-ups of at most LOOKUP_CHUNK values. ``typed`` templates take
    the kind as their first parameter."""
    parts = [
        (kind, values[start : start + LOOKUP_CHUNK])
        for kind, values in sorted(wanted.items())
        for start in range(0, len(values), LOOKUP_CHUNK)
    ]
    for start in range(0, len(parts), UNION_PARTS):
        group = parts[start : start + UNION_PARTS]
        params: list[Any] = []
        for kind, chunk in group:
            params += [kind, bulk.list_param(chunk)] if typed else [bulk.list_param(chunk)]
        yield from bulk.rows(" UNION ALL ".join(templates[kind] for kind, _ in group), params)


@lru_cache(maxsize=512)
def bind_processor(dialect: Dialect, column: Column[Any]) -> Any:
    """The function that turns a Python value of ``column`` into what ``dialect``'s driver is
    given (None: the value as it is), as the ORM would bind it."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    fast = (
        dialect.name == "sqlite"
        and isinstance(column.type, UtcDateTime)
        and process is not None
        and all(process(probe) == _sqlite_utc(probe) for probe in _PROBES)
    )
    return _sqlite_utc if fast else process


def _sqlite_utc(value: datetime | None) -> str | None:
    """UtcDateTime as SQLAlchemy's SQLite dialect stores it (``2026-03-01 10:00:00.000000``),
    from C code rather than a format string with seven fields: the ingest path stores two a
    row. Used only where it gives what the dialect's own processor gives (see ``_PROBES``)."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # the usual case: one C call, then drop the "+00:00"
        return value.isoformat(" ", "microseconds")[:-6]
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_PROBES = (
    datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(987, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
)


def _default_of(column: Column[Any]) -> Callable[[], Any]:
    """The value a row that leaves ``column`` out gets, as the ORM would give it."""
    default = column.default
    if default is None:
        return _none
    if default.is_callable:  # SQLAlchemy wraps a plain callable to take the execution context
        return partial(default.arg, None)  # type: ignore[attr-defined]
    if default.is_scalar:
        return partial(_same, default.arg)  # type: ignore[attr-defined]

    def unsupported() -> Any:
        raise TypeError(f"{column} has a default that Bulk.insert cannot evaluate")

    return unsupported


def _none() -> None:
    return None


def _same(value: Any) -> Any:
    return value
