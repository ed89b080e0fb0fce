"""Sending the invitations that are due (e-mail): each runs the fatigue rules and the contact
policy (kind ``dialogue``) at the moment of sending."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.preferences import current_preferences
from tillit.contact import reasons
from tillit.contact.log import record_send
from tillit.contact.models import DIALOGUE_PURPOSE
from tillit.contact.service import decide_for
from tillit.dialogues.ask_links import issue_token
from tillit.dialogues.asks import history
from tillit.dialogues.audience import may_ask
from tillit.dialogues.fatigue import blocked_by
from tillit.dialogues.models import Ask, AskStatus, Question
from tillit.storage.base import utcnow

logger = logging.getLogger(__name__)


Sender = Callable[[Ask, str], None]  # (ask, token) -> send it, raising on failure


def deliver_due(
    *,
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    send: Sender,
) -> dict[str, int]:
    """Send the invitations that are due, each through the fatigue rules and contact policy.

    Commits after every ask: an e-mail that went out is recorded before the next one is tried,
    so a failure later in the run never turns sent invitations back into unsent ones (which
    would send them twice). An ask whose sending fails stays scheduled for the next run."""
    now = now or utcnow()
    counts = {"sent": 0, "deferred": 0, "held": 0, "failed": 0}
    due = list(
        session.scalars(
            select(Ask)
            .where(Ask.status == AskStatus.scheduled, Ask.due_at <= now)
            .order_by(Ask.due_at, Ask.id)
        )
    )
    for ask in due:
        try:
            with session.begin_nested():
                outcome = _deliver_one(session, settings, ask, now, send)
        except (OSError, smtplib.SMTPException) as error:  # the mail server, not our data
            logger.warning("invitation for ask %s not sent: %s", ask.id, error)
            outcome = "failed"
        session.commit()
        counts[outcome] += 1
    return counts


def _hold(ask: Ask, reason: str, now: datetime) -> str:
    ask.status, ask.held_reason, ask.closed_at = AskStatus.held, reason, now
    return "held"


def _deliver_one(
    session: Session, settings: Settings, ask: Ask, now: datetime, send: Sender
) -> str:
    question = session.get_one(Question, ask.question_id)
    if not question.active:
        return _hold(ask, "question_inactive", now)
    if not may_ask(session, question, ask.customer_id):  # left the segment since planned
        return _hold(ask, "not_in_segment", now)
    if not current_preferences(session=session, customer_id=ask.customer_id).dialogues:
        return _hold(ask, reasons.DIALOGUES_OFF, now)
    others = [a for a in history(session, ask.customer_id) if a.status != AskStatus.scheduled]
    rule = blocked_by(
        others,
        question_id=question.id,
        recontact_days=question.recontact_days,
        now=now,
        cooldown=timedelta(days=settings.dialogue_cooldown_days),
        exempt=ask.exempt,
    )
    if rule:
        return _hold(ask, rule, now)
    decided = decide_for(
        session=session,
        customer_id=ask.customer_id,
        purpose=DIALOGUE_PURPOSE,
        kind="dialogue",
        channel=ask.channel,
        topic=None,
        at=now,
        settings=settings,
        log=True,
    )
    ask.decision_id = decided.logged_id
    outcome = decided.decision.outcome.value
    if outcome == "deferred" and decided.decision.defer_until is not None:
        ask.due_at = decided.decision.defer_until
        return "deferred"
    if outcome != "allowed":
        return _hold(ask, decided.decision.reason or outcome, now)
    token = issue_token(ask, settings.secret_key)
    send(ask, token)
    record_send(
        session=session,
        customer_id=ask.customer_id,
        channel=ask.channel,
        kind="dialogue",
        decision_id=decided.logged_id,
        sent_at=now,
    )
    ask.status, ask.created_at = AskStatus.pending, now
    ask.expires_at = now + timedelta(days=settings.dialogue_ask_days)
    return "sent"
