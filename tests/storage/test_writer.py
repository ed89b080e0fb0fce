"""The Writer (tillit.storage.writer) areas write through: one transaction per unit of work,
committed or rolled back whole; submit through a group commit or at once; timestamps bound as
the ORM binds them; a scratch SQLite file attached for a copy in SQL, on SQLite only."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tillit.customers.models import Customer
from tillit.storage.group import GroupCommit
from tillit.storage.session import SessionFactory
from tillit.storage.writer import DatabaseWriter

WHEN = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


def _count(sessions: SessionFactory) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0


def _add(name: str):
    def work(session: Session) -> str:
        session.add(Customer(name=name, locale="da", time_zone="Europe/Copenhagen", traits={}))
        session.flush()
        return name

    return work


def test_run_commits_the_work_or_nothing(sessions: SessionFactory) -> None:
    writer = DatabaseWriter(sessions)
    assert writer.run(_add("Åse")) == "Åse"

    def fails(session: Session) -> None:
        _add("Bo")(session)
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        writer.run(fails)
    assert _count(sessions) == 1  # Bo rolled back with his unit of work


def test_submit_without_a_group_runs_at_once_and_with_one_joins_it(
    sessions: SessionFactory,
) -> None:
    alone = DatabaseWriter(sessions).submit(_add("Cai"))
    assert alone.done() and alone.result() == "Cai"
    failed = DatabaseWriter(sessions).submit(lambda session: 1 / 0)
    assert isinstance(failed.exception(), ZeroDivisionError)  # in the future, not raised
    grouped = DatabaseWriter(sessions, group=GroupCommit(sessions)).submit(_add("Dagny"))
    assert grouped.result(timeout=30) == "Dagny"
    assert _count(sessions) == 2


def test_timestamps_are_bound_as_the_orm_binds_them(sessions: SessionFactory) -> None:
    writer = DatabaseWriter(sessions)
    column = Customer.__table__.c.created_at  # type: ignore[attr-defined]
    orm = column.type.dialect_impl(writer._dialect).bind_processor(writer._dialect)
    assert writer.bind_timestamp(WHEN) == (orm(WHEN) if orm else WHEN)
    assert writer.timestamp_binder()(WHEN) == writer.bind_timestamp(WHEN)


def test_a_scratch_file_is_attached_on_sqlite_only(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    scratch = tmp_path / "chunk.db"
    with closing(sqlite3.connect(scratch)) as connection:
        connection.execute("CREATE TABLE chunk (name TEXT)")
        connection.executemany("INSERT INTO chunk VALUES (?)", [("Eir",), ("Finn",)])
        connection.commit()
    writer = DatabaseWriter(sessions)

    def copy(session: Session) -> int:
        names = session.execute(text("SELECT name FROM staged.chunk ORDER BY rowid")).scalars()
        for name in names:
            _add(name)(session)
        return _count_in(session)

    if not writer.attaches_files:
        with pytest.raises(ValueError, match="only SQLite"):
            writer.run(copy, attach=scratch)
        return
    assert writer.run(copy, attach=scratch) == 2
    assert _count(sessions) == 2
    with sessions() as session:  # detached again: the pool's connection does not see it
        databases = session.execute(text("PRAGMA database_list")).all()
    assert "staged" not in {row[1] for row in databases}


def _count_in(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0
