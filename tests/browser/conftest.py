"""Browser tests: the real server in a subprocess, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("TILLIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {
        **os.environ,
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_ENV": "test",
        "TILLIT_BASE_URL": f"http://127.0.0.1:{port}",
        "TILLIT_SECRET_KEY": "browser-test-secret-key-0123456789-abcdef",
    }
    if database_url.startswith("postgresql"):
        env["TILLIT_DATABASE_URL"] = database_url  # the session's own database (tests/conftest.py)
    else:
        env.pop("TILLIT_DATABASE_URL", None)
    server = LiveServer(url=f"http://127.0.0.1:{port}", env=env)
    server.cli("db", "upgrade")
    process = subprocess.Popen(
        [sys.executable, "-m", "tillit", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not become ready in 30 s")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
