"""Start `tillit serve` as a real subprocess on a free port (for durability and client tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(*, database_url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TILLIT_DATABASE_URL": database_url,
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_ENV": "test",
    }
    tillit = Path(sys.executable).with_name("tillit")
    log_path = data_dir / f"server-{port}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [str(tillit), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"tillit serve did not start; see {log_path}")
