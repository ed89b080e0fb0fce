"""Start `tillit serve` as a real subprocess on a free port (for durability and client tests)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.server import free_port
from tests.server import start_server as _start

__all__ = ["free_port", "start_server"]


def start_server(*, database_url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        "TILLIT_DATABASE_URL": database_url,
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_ENV": "test",
    }
    log_path = data_dir / f"server-{port}-{time.monotonic_ns()}.log"
    return _start(env=env, port=port, log_path=log_path)
