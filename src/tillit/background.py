"""In-process background work: the server runs the recurring jobs itself, so one command runs
everything (no cron needed on one machine). Each round runs in a worker thread; a failing round
is logged and the loop carries on."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from tillit.config import Environment, Settings

logger = logging.getLogger("tillit.background")


async def run_jobs_forever(app: FastAPI, interval: float) -> None:
    from tillit.dialogues.jobs import run_dialogue_jobs

    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(interval)
        try:
            counts = await run_in_threadpool(
                run_dialogue_jobs, sessions=app.state.sessions, settings=settings
            )
            if any(counts.get(k) for k in ("sent", "failed", "escalated", "planned")):
                logger.info("background jobs: %s", counts)
        except Exception:  # keep the loop alive; the next round tries again
            logger.exception("background jobs failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Everything alive once the app has started (modules, routes, compiled statements, some
    # 150,000 objects) lives as long as the process. Freezing it keeps the collector's full
    # passes from walking it again: such a pass took ~80 ms on this machine and landed, as a
    # pause, on whichever requests were in flight (benchmarks/contact_http.py's tail).
    gc.collect()
    gc.freeze()
    task = None
    if settings.jobs_interval_seconds > 0 and settings.env is not Environment.test:
        task = asyncio.create_task(run_jobs_forever(app, settings.jobs_interval_seconds))
    try:
        yield
    finally:
        gc.unfreeze()  # collectable again once this app is gone (tests start many apps)
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
