"""Deleting a person's rows without being blocked by the rows other areas keep."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import DeclarativeBase, Session


def delete_rows(session: Session, model: type[DeclarativeBase], condition: Any) -> int:
    """``DELETE FROM model WHERE condition``, after setting to NULL every foreign key, in any
    table, that points at those rows: rows that stay (an ask, a match suggestion) must not
    block the erasure of rows that go. A foreign key that cannot be NULL is left alone, and
    the delete fails: such a row has to be erased by its own area first."""
    from tillit.storage.models import metadata  # every area's tables (imports them all)

    target: Table = model.__table__  # type: ignore[assignment]
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            if key.column.table is target and key.parent.nullable:
                doomed = select(key.column).where(condition)
                session.execute(
                    update(table).where(key.parent.in_(doomed)).values({key.parent.name: None})
                )
    return int(session.execute(delete(model).where(condition)).rowcount)  # type: ignore[attr-defined]
