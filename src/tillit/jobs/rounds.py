"""Every periodic round in one list: what the jobs process does each interval, in order.

An area adds its round here, and nowhere else: imports first (so their events reach the lake
and the dialogue triggers in the same interval), then the lake export with the analytics
snapshots, then segment membership, the experiments' guardrails, the analytics pages' first
answers and the company's promises, then dialogues and cases, then the outbox's due messages,
then the data-quality report and the staff home's overview (each measured at most every few
minutes: pages read what was measured).
One round failing is logged and counted, and the rounds after it still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from tillit.analytics import reports
from tillit.analytics.engine import connect
from tillit.analytics.reports import warm
from tillit.analytics.segment_store import refresh_segments
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.config import Settings
from tillit.consent.rates import measure_weekly_rates_if_due
from tillit.customers.service import Defaults
from tillit.dialogues.jobs import run_dialogue_jobs
from tillit.events.import_jobs import run_queued
from tillit.events.lake import export_events
from tillit.experiments.guard import guard_experiments
from tillit.identity.rules import IdentityRules
from tillit.outbox import send_due
from tillit.overview.store import measure_overview_if_due
from tillit.promises.alerts import make_alert
from tillit.promises.store import measure_promises
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
    # The snapshots of the operational tables beside the events: only those changed since
    # their last snapshot are rewritten (tillit.analytics.snapshots).
    snapshots = refresh_snapshots(sessions=ctx.sessions, data_dir=ctx.settings.data_dir)
    return {"lake_exported": exported, "lake_snapshots_written": len(snapshots.written)}


def _segments(ctx: JobContext) -> dict[str, int]:
    """Segment membership after the lake round, so the dialogues round after it asks the
    people who are members now; a segment is recomputed only when its inputs moved."""
    data_dir = ctx.settings.data_dir
    report = refresh_segments(
        sessions=ctx.sessions,
        data_dir=data_dir,
        model=lambda: Model(connect(ctx.settings), data_dir),
    )
    for key, why in report.failed.items():
        logger.warning("segment %s was not refreshed: %s", key, why)
    return {"segments_refreshed": len(report.refreshed), "segments_failed": len(report.failed)}


def _experiments(ctx: JobContext) -> dict[str, int]:
    """Running experiments checked after the lake and segments rounds (so they read this
    round's snapshots): one whose guardrail shows harm stops by itself
    (tillit.experiments.guard)."""
    report = guard_experiments(
        sessions=ctx.sessions, keep=partial(reports.cached, ctx.settings), now=utcnow()
    )
    for key, why in report.failed.items():
        logger.warning("experiment %s was not checked: %s", key, why)
    return {
        "experiments_checked": len(report.checked),
        "experiments_stopped": len(report.stopped),
        "experiments_failed": len(report.failed),
    }


def _analytics(ctx: JobContext) -> dict[str, int]:
    """The analytics pages' first answers, computed after the lake round while nobody waits
    (kept by the data's mark; tillit.analytics.reports)."""
    return {"analytics_warmed": warm(ctx.settings, ctx.sessions)}


def _promises(ctx: JobContext) -> dict[str, int]:
    """The company's promises against what the records show, after the lake round; a promise
    is measured again only when its snapshots moved, it was edited, or a day passed."""
    data_dir = ctx.settings.data_dir
    report = measure_promises(
        sessions=ctx.sessions,
        settings=ctx.settings,
        model=lambda: Model(connect(ctx.settings), data_dir),
        alert=make_alert(ctx.settings),
    )
    return {"promises_measured": len(report.measured), "promise_alerts": len(report.alerts)}


def _dialogues(ctx: JobContext) -> dict[str, int]:
    return run_dialogue_jobs(sessions=ctx.sessions, settings=ctx.settings)


def _outbox(ctx: JobContext) -> dict[str, int]:
    """After the dialogues and any planner before it: what they queued and is due goes out."""
    return send_due(ctx.sessions, ctx.settings, now=utcnow()).counts()


def _quality(ctx: JobContext) -> dict[str, int]:
    with ctx.sessions() as session, session.begin():
        report = measure_if_due(
            session=session,
            default_country=ctx.defaults.country,
            current_days=ctx.settings.quality_current_days,
            now=utcnow(),
        )
    return {"quality_measured": int(report is not None)}


def _consent_rates(ctx: JobContext) -> dict[str, int]:
    with ctx.sessions() as session, session.begin():
        rates = measure_weekly_rates_if_due(session=session, now=utcnow())
    return {"consent_rates_measured": int(rates is not None)}


def _overview(ctx: JobContext) -> dict[str, int]:
    with ctx.sessions() as session, session.begin():
        overview = measure_overview_if_due(session=session, settings=ctx.settings, now=utcnow())
    return {"overview_measured": int(overview is not None)}


ROUNDS: tuple[tuple[str, Callable[[JobContext], dict[str, int]]], ...] = (
    ("imports", _imports),
    ("lake", _lake),
    ("segments", _segments),
    ("experiments", _experiments),
    ("analytics pages", _analytics),
    ("promises", _promises),
    ("dialogues", _dialogues),
    ("outbox", _outbox),
    ("quality", _quality),
    ("overview", _overview),
    ("consent rates", _consent_rates),
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
