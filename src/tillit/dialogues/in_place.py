"""Questions shown in place (personal web link, widget, API): they check the fatigue rules and
the customer's own dialogue and research-consent choices, since nothing is sent to them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.preferences import current_preferences
from tillit.contact import reasons
from tillit.contact.models import DIALOGUE_PURPOSE, ConsentStatus
from tillit.contact.service import company_policy, contact_state
from tillit.dialogues.ask_links import IssuedAsk, issue_token
from tillit.dialogues.asks import history, new_ask
from tillit.dialogues.fatigue import blocked_by
from tillit.dialogues.models import AskStatus, Question
from tillit.storage.base import utcnow
from tillit.vocabulary import LegalBasis


def may_ask_in_place(*, session: Session, settings: Settings, customer_id: int) -> str | None:
    """Why a question must not be shown to this customer at all, or None when it may."""
    if not current_preferences(session=session, customer_id=customer_id).dialogues:
        return reasons.DIALOGUES_OFF
    state = contact_state(session=session, customer_id=customer_id, settings=settings)
    if state.erased or state.suppressed:
        return "erased" if state.erased else "suppressed"
    basis = company_policy(session=session, settings=settings).purposes.get(DIALOGUE_PURPOSE)
    consent = state.consents.get(DIALOGUE_PURPOSE)
    if basis is None:
        return "no_legal_basis"
    if basis is LegalBasis.consent and consent is not ConsentStatus.GRANTED:
        return "no_consent"
    if consent in (ConsentStatus.DENIED, ConsentStatus.WITHDRAWN):
        return "objected"
    return None


def ask_in_place(
    *,
    session: Session,
    settings: Settings,
    customer_id: int,
    question: Question,
    channel: str,
    trigger: str,
    reason: str,
    now: datetime | None = None,
    exempt: bool = False,
) -> IssuedAsk | None:
    """Show ``question`` now (web link, widget, API) if every rule allows; None otherwise."""
    now = now or utcnow()
    if may_ask_in_place(session=session, settings=settings, customer_id=customer_id):
        return None
    if blocked_by(
        history(session, customer_id),
        question_id=question.id,
        recontact_days=question.recontact_days,
        now=now,
        exempt=exempt,
        cooldown=timedelta(days=settings.dialogue_cooldown_days),
    ):
        return None
    ask = new_ask(
        session,
        customer_id=customer_id,
        question=question,
        channel=channel,
        trigger=trigger,
        reason=reason,
        status=AskStatus.pending,
        due_at=now,
        expires_days=settings.dialogue_ask_days,
        exempt=exempt,
    )
    return IssuedAsk(ask=ask, token=issue_token(ask, settings.secret_key))
