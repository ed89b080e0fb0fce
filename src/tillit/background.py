"""Background work beside the web server, and what the server does for the collector.

``tillit serve`` runs the recurring jobs (dialogue invitations, case escalation) every
``TILLIT_JOBS_INTERVAL_SECONDS`` in **a process of its own**, at a lower priority, so one
command still runs everything on one machine (no cron). They used to run in a thread of every
web worker: a round that plans and sends for thousands of customers held the worker's GIL for
a few hundred milliseconds, and every request in flight waited (benchmarks/contact_http.py:
p99 7.6 ms with a round in the window, 3.3 ms without). A failing round is logged and the
loop carries on; the loop ends with the server (it watches its parent).
"""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tillit.config import Environment, Settings

logger = logging.getLogger("tillit.background")
NICENESS = 5  # below the web workers: requests first, the jobs when there is room


def start_jobs_process(settings: Settings) -> subprocess.Popen[bytes] | None:
    """``tillit jobs run`` as a child of this process (None when the interval is 0)."""
    if settings.jobs_interval_seconds <= 0 or settings.env is Environment.test:
        return None
    command = [sys.executable, "-m", "tillit", "jobs", "run", "--parent", str(os.getpid())]
    return subprocess.Popen(command)  # noqa: S603 (our own interpreter and fixed arguments)


def stop_jobs_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# Counts of a round that are worth a line in the log (a quiet round says nothing).
WORTH_SAYING = (
    "sent",
    "failed",
    "escalated",
    "planned",
    "imports_done",
    "imports_failed",
    "lake_exported",
    "lake_snapshots_written",
    "failed_rounds",
)


def run_jobs_forever(
    run_round: Callable[[], dict[str, int]],
    *,
    interval: float,
    parent: int | None = None,
    rounds: int | None = None,
) -> None:
    """Call ``run_round`` every ``interval`` seconds; stop when the process ``parent`` is gone
    (the server was stopped, even by SIGKILL) or after ``rounds`` rounds."""
    done = 0
    while rounds is None or done < rounds:
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline:
            if parent is not None and os.getppid() != parent:
                return
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        try:
            counts = run_round()
            if any(counts.get(k) for k in WORTH_SAYING):
                logger.info("background jobs: %s", counts)
        except Exception:  # keep the loop alive; the next round tries again
            logger.exception("background jobs failed")
        done += 1


YOUNG_GENERATION = 50_000  # objects; see lifespan


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything alive once the app has started (modules, routes, compiled statements, some
    # 150,000 objects) lives as long as the process. Freezing it keeps the collector's full
    # passes from walking it again: such a pass took ~80 ms on this machine and landed, as a
    # pause, on whichever requests were in flight (benchmarks/contact_http.py's tail).
    gc.collect()
    gc.freeze()
    # A young generation of 50,000 objects instead of 700: a tracking batch of 100 events
    # allocates thousands (the decoded JSON, messages, rows), so the default collected after
    # nearly every request, ~0.4 s of collector time in benchmarks/tracking_http.py --full
    # (about 5% of the server's CPU); with this, ~0.03 s. Garbage without cycles is freed by
    # reference counting either way.
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()  # collectable again once this app is gone (tests start many apps)
