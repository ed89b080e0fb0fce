"""``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL.

Both databases spell an upsert the same way, but SQLAlchemy builds it only from each dialect's
own ``insert()``; ``upsert`` picks the one of the session's database, so areas need no dialect
branch of their own.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
