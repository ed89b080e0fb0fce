"""Session factory and the unit-of-work helper used by every face."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tillit.storage.engine import READ_ONLY

SessionFactory = sessionmaker[Session]


def make_session_factory(engine: Engine, *, read_only: bool = False) -> SessionFactory:
    """``read_only`` sessions never take SQLite's write lock, so reads run side by side."""
    if read_only:
        engine = engine.execution_options(**{READ_ONLY: True})
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back on any error."""
    with factory() as session, session.begin():
        yield session
