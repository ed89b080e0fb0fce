"""The closed loop: rules open a case on an unhappy answer; agents assign, note, reply and
resolve; overdue cases escalate; resolving can ask the customer "did we solve it?".

Rules (first match): NPS <= 6 (high priority at <= 3), CSAT <= 2, CES <= 2 (7 = very easy),
rating <= 2, a comment containing one of ``settings.case_words``, and every answer to the
"what should we never do?" relationship question (low priority: it is a promise to keep).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.config import Settings
from tillit.dialogues import asks, catalogue, in_place, scheduling
from tillit.dialogues.models import (
    Ask,
    Case,
    CaseNote,
    CaseStatus,
    Question,
    QuestionType,
    Response,
)
from tillit.errors import Conflict, NotFound
from tillit.storage.base import utcnow

LOW_SCORES = {
    QuestionType.nps: 6,
    QuestionType.csat: 2,
    QuestionType.ces: 2,
    QuestionType.rating: 2,
}
PRIORITIES = ("high", "normal", "low")


def rule_words(rule: str) -> str:
    """Why a case was opened, in words for staff (the stored rule is a stable code)."""
    kind, _, value = rule.partition("<=")
    if value:
        return f"{kind.upper()} score of {value} or less"
    if rule.startswith("word:"):
        return f"The comment mentions “{rule.removeprefix('word:')}”"
    if rule == "never":
        return "Answered “never”, with a comment"
    if rule.startswith("promise:"):
        return f"The customer reports a broken promise ({rule.removeprefix('promise:')})"
    return rule.replace("_", " ")


def rule_for(question: Question, response: Response, words: list[str]) -> tuple[str, str] | None:
    """(rule, priority) for a response that needs a human, or None."""
    limit = LOW_SCORES.get(QuestionType(question.type))
    if limit is not None and response.score is not None and response.score <= limit:
        high = question.type == QuestionType.nps and response.score <= 3
        return f"{question.type}<={limit}", "high" if high else "normal"
    comment = " ".join(filter(None, [response.text, response.follow_up])).lower()
    for word in words:
        if word and word in comment:
            return f"word:{word}", "normal"
    if question.relationship_kind == "never" and response.text:
        return "never", "low"
    return None


def _due(settings: Settings, priority: str, start: datetime) -> tuple[datetime, datetime]:
    factor = {"high": 0.5, "normal": 1.0, "low": 2.0}[priority]
    return (
        start + timedelta(hours=settings.case_first_response_hours * factor),
        start + timedelta(hours=settings.case_resolution_hours * factor),
    )


def open_for_response(
    *,
    session: Session,
    settings: Settings,
    response: Response,
    question: Question,
    now: datetime,
) -> Case | None:
    words = [w.strip().lower() for w in settings.case_words.split(",") if w.strip()]
    found = rule_for(question, response, words)
    if found is None or question.key == catalogue.RECOVERY:
        return None
    rule, priority = found
    first, resolution = _due(settings, priority, now)
    case = Case(
        customer_id=response.customer_id,
        response_id=response.id,
        rule=rule,
        priority=priority,
        status=CaseStatus.open,
        first_response_due=first,
        resolution_due=resolution,
        created_at=now,
    )
    session.add(case)
    session.flush()
    _note(session, case, "open", f"opened by rule {rule}", "system", now)
    return case


def open_for_customer(
    *,
    session: Session,
    settings: Settings,
    customer_id: int,
    rule: str,
    body: str,
    priority: str = "normal",
    now: datetime | None = None,
) -> Case:
    """A case the customer opened themselves (e.g. about a broken promise), with the usual SLAs."""
    now = now or utcnow()
    first, resolution = _due(settings, priority, now)
    case = Case(
        customer_id=customer_id,
        rule=rule,
        priority=priority,
        status=CaseStatus.open,
        first_response_due=first,
        resolution_due=resolution,
        created_at=now,
    )
    session.add(case)
    session.flush()
    _note(session, case, "open", body, "customer", now)
    return case


def _note(
    session: Session, case: Case, kind: str, body: str, author: str, now: datetime | None = None
) -> CaseNote:
    note = CaseNote(
        case_id=case.id, kind=kind, body=body, author=author, created_at=now or utcnow()
    )
    session.add(note)
    session.flush()
    return note


def get_case(*, session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def assign(*, session: Session, case_id: int, assignee: str, actor: Actor) -> Case:
    case = _open_case(session, case_id)
    case.assignee, case.status = assignee, CaseStatus.assigned
    _note(session, case, "assign", f"assigned to {assignee}", actor.label)
    record(
        session=session,
        actor=actor,
        action="case.assign",
        entity_type="dialogue_case",
        entity_id=case.id,
        after={"assignee": assignee},
    )
    return case


def add_note(
    *,
    session: Session,
    case_id: int,
    body: str,
    actor: Actor,
    reply: bool = False,
    now: datetime | None = None,
) -> CaseNote:
    """An internal note, or (``reply``) a message the customer sees on their link."""
    case = _open_case(session, case_id)
    now = now or utcnow()
    if reply and case.first_response_at is None:
        case.first_response_at = now
    kind = "reply" if reply else "note"
    note = _note(session, case, kind, body.strip(), actor.label, now)
    # Like every staff action: a reply reaches the customer, so who sent it must be on record.
    record(
        session=session,
        actor=actor,
        action=f"case.{kind}",
        entity_type="dialogue_case",
        entity_id=case.id,
        after={"note": note.id},
    )
    return note


def resolve(
    *,
    session: Session,
    settings: Settings,
    case_id: int,
    actor: Actor,
    summary: str = "",
    ask_recovery: bool = True,
    now: datetime | None = None,
) -> Case:
    case = _open_case(session, case_id)
    now = now or utcnow()
    case.status, case.resolved_at = CaseStatus.resolved, now
    if case.first_response_at is None:
        case.first_response_at = now
    _note(session, case, "resolve", summary.strip() or "resolved", actor.label, now)
    record(
        session=session,
        actor=actor,
        action="case.resolve",
        entity_type="dialogue_case",
        entity_id=case.id,
        after={"recovery": ask_recovery},
    )
    if ask_recovery:
        recovery_ask(session=session, settings=settings, case=case, now=now)
    return case


def recovery_ask(*, session: Session, settings: Settings, case: Case, now: datetime) -> Ask | None:
    """ "Did we solve it?" on the channel the unhappy answer came from: exempt from the
    cool-down, never from the customer's own choices or the contact policy."""
    question = catalogue.get_question(session=session, key=catalogue.RECOVERY)
    origin = session.get(Response, case.response_id) if case.response_id else None
    channel = origin.channel if origin else "web"
    reason = f"asked because: case #{case.id} was resolved (recovery question)"
    ask: Ask | None
    if channel in asks.OUTBOUND:
        ask = scheduling.schedule(
            session=session,
            customer_id=case.customer_id,
            question=question,
            trigger="recovery",
            reason=reason,
            due_at=now,
            channel=channel,
            exempt=True,
            expires_days=settings.dialogue_ask_days,
        )
    else:
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=case.customer_id,
            question=question,
            channel=channel,
            trigger="recovery",
            reason=reason,
            now=now,
            exempt=True,
        )
        ask = issued.ask if issued else None
    case.recovery_ask_id = ask.id if ask else None
    return ask


def escalate_overdue(session: Session, now: datetime | None = None) -> list[Case]:
    """Raise every case whose SLA is breached by one level (once per breach) and note it."""
    now = now or utcnow()
    escalated = []
    for case in session.scalars(select(Case).where(Case.status != CaseStatus.resolved)):
        breaches = int(case.first_response_at is None and case.first_response_due <= now)
        breaches += int(case.resolution_due <= now)
        if breaches > case.escalation_level:
            case.escalation_level = breaches
            case.priority = "high"
            what = "resolution" if case.resolution_due <= now else "first response"
            _note(
                session,
                case,
                "escalate",
                f"SLA for {what} breached; escalated to level {breaches}",
                "system",
                now,
            )
            escalated.append(case)
    return escalated


def _open_case(session: Session, case_id: int) -> Case:
    case = get_case(session=session, case_id=case_id)
    if case.status == CaseStatus.resolved:
        raise Conflict(f"case {case_id} is already resolved")
    return case


def inbox(
    *, session: Session, status: str | None = None, assignee: str | None = None, limit: int = 200
) -> list[Case]:
    query = select(Case).order_by(
        Case.status == CaseStatus.resolved, Case.escalation_level.desc(), Case.first_response_due
    )
    if status:
        query = query.where(Case.status == status)
    if assignee:
        query = query.where(Case.assignee == assignee)
    return list(session.scalars(query.limit(limit)))


def notes(*, session: Session, case_id: int) -> list[CaseNote]:
    return list(
        session.scalars(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id))
    )


def customer_cases(*, session: Session, customer_id: int) -> list[Case]:
    return list(
        session.scalars(
            select(Case).where(Case.customer_id == customer_id).order_by(Case.id.desc())
        )
    )
