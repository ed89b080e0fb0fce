"""Quality reports are measured by the jobs process and kept with their time; the page reads
the latest instead of measuring per request (it took 5-6 s on 3,000 customers)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.quality.test_quality import dataset  # noqa: F401  (fixture)
from tillit.audit.models import AuditEntry
from tillit.quality import measure
from tillit.quality.store import MEASURE_EVERY, latest_report, measure_if_due, save_report
from tillit.storage.base import utcnow
from tillit.storage.snapshots import KEEP, Snapshot


def _count(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Snapshot)) or 0


def test_a_kept_report_reads_back_as_it_was_measured(sessions, dataset):  # noqa: F811
    with sessions() as session, session.begin():
        report = measure(session=session, default_country="DK", current_days=365)
        save_report(session=session, report=report)
    with sessions() as session:
        kept = latest_report(session=session, current_days=365)
        assert latest_report(session=session, current_days=30) is None
    assert kept == report
    assert kept.sources and kept.sources[0].score("complete") == report.sources[0].score("complete")


def test_the_jobs_measure_only_when_the_latest_report_is_old(sessions, dataset):  # noqa: F811
    now = utcnow()
    with sessions() as session, session.begin():
        assert measure_if_due(session=session, default_country="DK", current_days=365, now=now)
        soon = now + MEASURE_EVERY / 2
        assert not measure_if_due(session=session, default_country="DK", current_days=365, now=soon)
        later = now + MEASURE_EVERY + timedelta(seconds=1)
        assert measure_if_due(session=session, default_country="DK", current_days=365, now=later)
    assert _count(sessions) == 2


def test_only_the_newest_reports_are_kept(sessions, dataset):  # noqa: F811
    now = utcnow()
    with sessions() as session, session.begin():
        for minutes in range(KEEP + 3):
            report = measure(
                session=session,
                default_country="DK",
                current_days=365,
                now=now + timedelta(minutes=minutes),
            )
            save_report(session=session, report=report)
    assert _count(sessions) == KEEP
    with sessions() as session:
        newest = latest_report(session=session, current_days=365)
    assert newest is not None and newest.measured_at == now + timedelta(minutes=KEEP + 2)


def test_the_page_measures_once_then_reads_and_staff_can_measure_now(
    client,
    sessions,
    staff_as,
    dataset,  # noqa: F811
):
    _analyst, csrf = staff_as("analyst")
    first = client.get("/staff/quality")
    assert first.status_code == 200 and "Trait: email" in first.text
    assert _count(sessions) == 1
    again = client.get("/staff/quality?source=web")
    assert again.status_code == 200 and "every 10 minutes" in again.text
    assert _count(sessions) == 1  # read, not measured again
    measured = client.post(
        "/staff/quality/measure", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert measured.status_code == 303
    assert _count(sessions) == 2
    with sessions() as session:
        assert session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "quality.measure")
        )
    refused = client.post("/staff/quality/measure", data={"csrf_token": "stale"})
    assert refused.status_code == 403 and _count(sessions) == 2
