"""Identity: every test on each backend (tests/backends.py)."""

from tests.backends import client, database_url, engine, sessions, settings, write_key

__all__ = ["client", "database_url", "engine", "sessions", "settings", "write_key"]
