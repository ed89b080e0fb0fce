"""Helpers for tests and benchmarks that need the real server: `tillit serve` in a subprocess
on a free loopback port, ready when this returns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    *,
    env: Mapping[str, str],
    port: int,
    workers: int = 1,
    log_path: Path | None = None,
    timeout: float = 90,  # a loaded machine imports slowly; a real hang still fails
) -> subprocess.Popen[bytes]:
    """Starts `tillit serve` with ``env`` on top of this process's environment; returns once
    /readyz answers 200 (so migrations are applied), or raises naming the log."""
    command = [
        sys.executable,
        "-m",
        "tillit",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    output = log_path.open("wb") if log_path else subprocess.DEVNULL
    try:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=output, stderr=output)
    finally:
        if log_path:
            output.close()  # type: ignore[union-attr]  # the child keeps its own descriptor
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError(f"tillit serve did not become ready; see {log_path or 'its output'}")


@contextmanager
def running_server(
    *, env: Mapping[str, str], workers: int = 1, log_path: Path | None = None
) -> Iterator[str]:
    """The server's base URL while the block runs; the server is stopped afterwards."""
    port = free_port()
    process = start_server(
        env={"TILLIT_BASE_URL": f"http://127.0.0.1:{port}", **env},
        port=port,
        workers=workers,
        log_path=log_path,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
