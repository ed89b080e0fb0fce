"""Every periodic round in one list: what the jobs process does each interval, in order.

An area adds its round here, and nowhere else: imports first (so their events reach the lake
and the dialogue triggers in the same interval), then the lake export, then dialogues and cases,
then the data-quality report and the staff home's overview (each measured at most every
few minutes: pages read what was measured).
One round failing is logged and counted, and the rounds after it still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.dialogues.jobs import run_dialogue_jobs
from tillit.events.import_jobs import run_queued
from tillit.events.lake import export_events
from tillit.identity.rules import IdentityRules
from tillit.overview.store import measure_overview_if_due
from tillit.quality.store import measure_if_due
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

logger = logging.getLogger("tillit.jobs")

# On PostgreSQL an event with a lower id can commit after one with a higher id; the lake's
# watermark only moves past events this old, so none is skipped.
LAKE_SETTLE_SECONDS = 10
LAKE_BATCHES_PER_ROUND = 50  # 200,000 events each: a backlog drains over a few rounds


@dataclass(frozen=True)
class JobContext:
    sessions: SessionFactory
    settings: Settings
    defaults: Defaults
    rules: IdentityRules


def _imports(ctx: JobContext) -> dict[str, int]:
    return run_queued(
        sessions=ctx.sessions,
        data_dir=ctx.settings.data_dir,
        rules=ctx.rules,
        defaults=ctx.defaults,
    )


def _lake(ctx: JobContext, *, settle_seconds: int = LAKE_SETTLE_SECONDS) -> dict[str, int]:
    exported = 0
    for _ in range(LAKE_BATCHES_PER_ROUND):
        report = export_events(
            sessions=ctx.sessions, data_dir=ctx.settings.data_dir, settle_seconds=settle_seconds
        )
        exported += report.events
        if not report.events:
            break
    return {"lake_exported": exported}


def _dialogues(ctx: JobContext) -> dict[str, int]:
    return run_dialogue_jobs(sessions=ctx.sessions, settings=ctx.settings)


def _quality(ctx: JobContext) -> dict[str, int]:
    with ctx.sessions() as session, session.begin():
        report = measure_if_due(
            session=session,
            default_country=ctx.defaults.country,
            current_days=ctx.settings.quality_current_days,
            now=utcnow(),
        )
    return {"quality_measured": int(report is not None)}


def _overview(ctx: JobContext) -> dict[str, int]:
    with ctx.sessions() as session, session.begin():
        overview = measure_overview_if_due(session=session, settings=ctx.settings, now=utcnow())
    return {"overview_measured": int(overview is not None)}


ROUNDS: tuple[tuple[str, Callable[[JobContext], dict[str, int]]], ...] = (
    ("imports", _imports),
    ("lake", _lake),
    ("dialogues", _dialogues),
    ("quality", _quality),
    ("overview", _overview),
)


def run_rounds(
    ctx: JobContext,
    rounds: tuple[tuple[str, Callable[[JobContext], dict[str, int]]], ...] = ROUNDS,
) -> dict[str, int]:
    """One pass over every round; the counts of all of them, plus ``failed_rounds``."""
    counts: dict[str, int] = {"failed_rounds": 0}
    for name, job in rounds:
        try:
            counts.update(job(ctx))
        except Exception:  # the next round still runs; this one tries again next interval
            logger.exception("the %s round failed", name)
            counts["failed_rounds"] += 1
    return counts
