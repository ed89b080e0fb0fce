"""Answering: validate against the question type, store the response, apply relationship
answers to the customer's preferences at once, and run the closed-loop rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.preferences import current_preferences, update_preferences
from tillit.dialogues import cases
from tillit.dialogues.catalogue import CHOICE_TYPES, SCALES
from tillit.dialogues.models import (
    Ask,
    AskStatus,
    Question,
    QuestionType,
    QuestionVersion,
    Response,
)
from tillit.errors import Conflict, FieldError, InvalidInput
from tillit.storage.base import utcnow

# "best time of day" -> quiet hours: everything outside the chosen window is quiet.
BEST_TIME_QUIET = {
    "morning": (time(12, 0), time(8, 0)),
    "afternoon": (time(17, 0), time(12, 0)),
    "evening": (time(21, 0), time(17, 0)),
}
FREQUENCY_CAPS = {"week_1": (1, "week"), "month_2": (2, "month"), "month_1": (1, "month")}
MAX_TEXT = 4000


@dataclass(frozen=True)
class Answer:
    score: int | None = None
    choices: tuple[str, ...] = ()
    text: str | None = None
    follow_up: str | None = None


def validate(question: Question, version: QuestionVersion, answer: Answer) -> Answer:
    errors = []
    if question.type in SCALES:
        low, high = SCALES[question.type]
        if answer.score is None or not low <= answer.score <= high:
            errors.append(FieldError("score", f"choose a whole number from {low} to {high}"))
    allowed = {str(o["value"]) for o in version.options}
    if question.type in CHOICE_TYPES and allowed:
        if not answer.choices or not set(answer.choices) <= allowed:
            errors.append(FieldError("choices", "choose one of the options"))
        multiple = question.type == QuestionType.multiple or question.relationship_kind in (
            "channels",
            "topics",
        )
        if len(answer.choices) > 1 and not multiple:
            errors.append(FieldError("choices", "choose one option"))
    if (question.type == QuestionType.text or question.relationship_kind == "never") and not (
        answer.text or ""
    ).strip():
        errors.append(FieldError("text", "write a few words"))
    for name in ("text", "follow_up"):
        if len(getattr(answer, name) or "") > MAX_TEXT:
            errors.append(FieldError(name, f"at most {MAX_TEXT} characters"))
    if errors:
        raise InvalidInput(errors)
    return Answer(
        score=answer.score,
        choices=tuple(dict.fromkeys(answer.choices)),
        text=(answer.text or "").strip() or None,
        follow_up=(answer.follow_up or "").strip() or None,
    )


def submit(
    *,
    session: Session,
    settings: Settings,
    ask: Ask,
    answer: Answer,
    now: datetime | None = None,
) -> Response:
    """Store the answer to ``ask`` (once: a second answer is a conflict)."""
    now = now or utcnow()
    if ask.status not in (AskStatus.pending, AskStatus.scheduled):
        raise Conflict("this question has already been answered or has closed")
    if ask.expires_at <= now:
        ask.status, ask.closed_at = AskStatus.expired, now
        raise Conflict("this question has expired")
    question = session.get_one(Question, ask.question_id)
    version = session.get_one(QuestionVersion, ask.version_id)
    answer = validate(question, version, answer)
    response = Response(
        ask_id=ask.id,
        customer_id=ask.customer_id,
        question_id=question.id,
        version_id=version.id,
        score=answer.score,
        choices=list(answer.choices) or None,
        text=answer.text,
        follow_up=answer.follow_up,
        channel=ask.channel,
        language=ask.language,
        answered_at=now,
    )
    session.add(response)
    ask.status, ask.closed_at = AskStatus.answered, now
    session.flush()
    if question.type == QuestionType.relationship:
        apply_relationship(
            session=session,
            customer_id=ask.customer_id,
            question=question,
            answer=answer,
            now=now,
        )
    cases.open_for_response(
        session=session, settings=settings, response=response, question=question, now=now
    )
    return response


def preference_changes(
    session: Session, customer_id: int, kind: str | None, answer: Answer
) -> dict[str, Any]:
    """What a relationship answer changes in the customer's own rules."""
    current = current_preferences(session=session, customer_id=customer_id)
    chosen = answer.choices
    if kind == "frequency" and chosen:
        if chosen[0] == "never":
            return {"channels": {**current.model_dump(mode="json")["channels"], "email": False}}
        count, period = FREQUENCY_CAPS[chosen[0]]
        caps = current.model_dump(mode="json")["caps"]
        return {"caps": {**caps, "email": {"count": count, "period": period}}}
    if kind == "channels" and chosen:
        asked = ("email", "sms", "push", "post")
        channels = current.model_dump(mode="json")["channels"]
        return {"channels": {**channels, **{c: c in chosen for c in asked}}}
    if kind == "topics":
        return {"topics": list(chosen)}
    if kind == "best_time" and chosen:
        start, end = BEST_TIME_QUIET[chosen[0]]
        return {"quiet_hours": {"start": start.isoformat(), "end": end.isoformat()}}
    return {}


def apply_relationship(
    *,
    session: Session,
    customer_id: int,
    question: Question,
    answer: Answer,
    now: datetime | None = None,
) -> None:
    changes = preference_changes(session, customer_id, question.relationship_kind, answer)
    if changes:
        update_preferences(
            session=session,
            customer_id=customer_id,
            changes=changes,
            method="dialogue",
            actor=Actor(type="customer", id=str(customer_id), label=f"customer #{customer_id}"),
            now=now,
        )
