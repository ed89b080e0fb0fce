"""Browser tests: the real server in a subprocess, driven by Playwright in Debian's Chromium
(the `browser` and `page` fixtures live in tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import TEST_DATABASE_URL, own_postgres_database
from tests.server import running_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in str(item.path):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "tillit", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return result.stdout


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    with ExitStack() as stack:
        # PostgreSQL: a database of the server's own, not the worker's (tests/conftest.py). The
        # browser modules fill it for the whole session, and other tests on the same worker
        # must still find theirs as migrated (the 2026-12-07 CI run found demo customers there).
        url = stack.enter_context(own_postgres_database()) if TEST_DATABASE_URL else ""
        env = {
            "TILLIT_DATA_DIR": str(data_dir),
            "TILLIT_ENV": "test",
            "TILLIT_SECRET_KEY": "browser-test-secret-key-0123456789-abcdef",
            "TILLIT_DATABASE_URL": url,  # empty: SQLite in data_dir
        }
        url = stack.enter_context(running_server(env=env, log_path=data_dir / "server.log"))
        yield LiveServer(url=url, env=env)
