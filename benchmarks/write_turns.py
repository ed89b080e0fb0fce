"""A plain write's wait for its turn while the tracking API keeps SQLite busy.

Starts Tillit as tracking_http.py does (2 uvicorn workers, SQLite in a temporary directory)
and, in a separate process, times a one-row write transaction every 50 ms, as a staff action
or a job would make one (not through the group commit). The baseline is the same writer, in
the same run, while the server is idle; then again while /v1/batch takes load (8 client
threads, 100 events a request). Prints p50, p90, p99 and max of both, and the p99 ratio.
See tillit.storage.write_lock for why the writers queue on one lock.

Run:  python benchmarks/write_turns.py [--requests 1500]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import tracking_http  # the same servers, bodies and load generator

WRITER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import text
    from tillit.storage import make_engine, make_session_factory

    sessions = make_session_factory(make_engine(sys.argv[1]))
    until = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < until:
        started = time.perf_counter()
        with sessions() as session, session.begin():
            session.execute(text("UPDATE event_source SET name = name WHERE id = 1"))
        print((time.perf_counter() - started) * 1000, flush=True)
        time.sleep(0.05)
    """
)


def timed_writes(url: str, seconds: float, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", WRITER, url, str(seconds)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def summary(process: subprocess.Popen[str]) -> list[float]:
    out, _ = process.communicate(timeout=120)
    return sorted(float(line) for line in out.split())


def show(name: str, times: list[float]) -> None:
    def at(share: float) -> float:
        return times[min(len(times) - 1, int(len(times) * share))]

    print(
        f"{name:>16}: {len(times)} writes, p50 {at(0.5):7.1f} ms  p90 {at(0.9):7.1f} ms  "
        f"p99 {at(0.99):7.1f} ms  max {times[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500, help="/v1/batch requests")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env, auth = tracking_http.tillit_env(data_dir)
        url = env["TILLIT_DATABASE_URL"]
        port = tracking_http.free_port()
        server = tracking_http.serve(
            ["tillit.app:create_app", "--factory", "--workers", "2"], env, port, data_dir
        )
        try:
            tracking_http.load(port, tracking_http.bodies(20, "warm"), 8, auth)
            idle = summary(timed_writes(url, 5.0, env))
            payloads = tracking_http.bodies(arguments.requests, "run")
            writer = timed_writes(url, 6.0, env)
            elapsed = tracking_http.load(port, payloads, 8, auth)
            loaded = summary(writer)
        finally:
            server.terminate()
            server.wait()
    rate = arguments.requests * tracking_http.PER_REQUEST / elapsed
    print(f"a one-row write every 50 ms from another process; /v1/batch at {rate:,.0f} events/s")
    show("server idle", idle)
    show("under load", loaded)
    ratio = loaded[int(len(loaded) * 0.99)] / idle[int(len(idle) * 0.99)]
    print(f"p99 under load / p99 idle: {ratio:.1f}x")


if __name__ == "__main__":
    main()
