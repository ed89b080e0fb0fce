"""Storage: the engine, sessions, the declarative base and the Alembic migrations."""

from tillit.storage.base import Base, utcnow
from tillit.storage.engine import make_engine
from tillit.storage.migrate import upgrade
from tillit.storage.session import SessionFactory, make_session_factory

__all__ = ["Base", "SessionFactory", "make_engine", "make_session_factory", "upgrade", "utcnow"]
