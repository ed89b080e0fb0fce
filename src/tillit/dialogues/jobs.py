"""The dialogues' recurring work in one call: plan periodic questions, expire old asks, send
the invitations that are due, and escalate cases past their SLA. Run by the server's
background loop (``TILLIT_JOBS_INTERVAL_SECONDS``) and by ``tillit dialogues send`` /
``tillit cases escalate`` from cron."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.dialogues import asks, cases, delivery, mail, scheduling
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

# Any constant works: it only has to be the same in every process of one installation.
_POSTGRES_LOCK = 7_401_215


def run_dialogue_jobs(
    *, sessions: SessionFactory, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """One round. On PostgreSQL an advisory lock lets only one process run it at a time;
    on SQLite the write lock already queues them, and the second finds nothing left to do."""
    now = now or utcnow()
    with sessions() as session:
        if not _take_lock(session):
            return {"skipped": 1}
        try:
            counts = send_due_invitations(session=session, settings=settings, now=now)
            counts["escalated"] = len(cases.escalate_overdue(session, now))
            session.commit()
        finally:
            _release_lock(session)
    return counts


def send_due_invitations(
    *, session: Session, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """Plan periodic questions, expire old asks and e-mail the invitations that are due, each
    through the fatigue rules and the contact policy. Commits as it goes."""
    now = now or utcnow()
    counts = {
        "planned": scheduling.schedule_periodic(session=session, now=now),
        "expired": asks.expire_overdue(session=session, now=now),
    }
    session.commit()
    counts.update(
        delivery.deliver_due(
            session=session,
            settings=settings,
            now=now,
            send=mail.smtp_sender(session=session, settings=settings),
        )
    )
    return counts


def _take_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _POSTGRES_LOCK}).scalar()
    )


def _release_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _POSTGRES_LOCK})
        session.commit()
