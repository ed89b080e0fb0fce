"""Browser tests: the real server in a subprocess, driven by Playwright in Debian's Chromium
(the `browser` and `page` fixtures live in tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
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
def live_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    env = {
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_ENV": "test",
        "TILLIT_SECRET_KEY": "browser-test-secret-key-0123456789-abcdef",
        # PostgreSQL: the session's own database (tests/conftest.py); else SQLite in data_dir.
        "TILLIT_DATABASE_URL": database_url if database_url.startswith("postgresql") else "",
    }
    with running_server(env=env, log_path=data_dir / "server.log") as url:
        yield LiveServer(url=url, env=env)
