"""Goal definitions: defined once by staff, read by every goals report."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.analytics.goals import KINDS, EventGoal
from tillit.analytics.models import Goal
from tillit.analytics.properties import PROPERTY_NAME_RULE, bad_property_names
from tillit.audit.service import Actor, record
from tillit.consent.models import ConsentDecision, ConsentRecord, Purpose
from tillit.customers.models import Customer
from tillit.dialogues.models import Question, Response
from tillit.errors import Conflict, FieldError, InvalidInput
from tillit.events.models import Event

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def define_goal(
    *,
    session: Session,
    key: str,
    name: str,
    actor: Actor,
    event: str = "",
    kind: str = "event",
    purpose: str | None = None,
    question: str | None = None,
    value_property: str | None = None,
    filters: dict[str, str] | None = None,
    window_days: int = 7,
) -> Goal:
    """A goal reached by an event (with property filters), a consent granted to ``purpose``,
    an answer to ``question`` (or any), or a sign-up; counted within ``window_days`` after a
    meeting."""
    errors = []
    if not KEY.match(key):
        errors.append(FieldError("key", "lower-case letters, digits, - and _, at most 64"))
    if not name.strip():
        errors.append(FieldError("name", "a goal needs a name"))
    if kind not in KINDS:
        errors.append(FieldError("kind", f"one of {', '.join(KINDS)}"))
    if kind == "event" and not event.strip():
        errors.append(FieldError("event", "name the event that reaches the goal"))
    if kind == "consent" and not _exists(session, Purpose, purpose):
        errors.append(FieldError("purpose", f"no consent purpose {purpose!r}"))
    if kind == "answer" and question and not _exists(session, Question, question):
        errors.append(FieldError("question", f"no question {question!r}"))
    if not 1 <= window_days <= 365:
        errors.append(FieldError("window_days", "between 1 and 365 days"))
    if bad := bad_property_names([*(filters or {}), *([value_property] if value_property else [])]):
        errors.append(FieldError("filters", f"{bad[0]!r}: {PROPERTY_NAME_RULE}"))
    if errors:
        raise InvalidInput(errors)
    if session.scalar(select(Goal.id).where(Goal.key == key)) is not None:
        raise Conflict(f"a goal {key!r} exists already")
    goal = Goal(
        key=key,
        name=name.strip(),
        kind=kind,
        event=event.strip() if kind == "event" else None,
        purpose_key=purpose if kind == "consent" else None,
        question_key=(question or None) if kind == "answer" else None,
        filters=dict(filters or {}) if kind == "event" else {},
        value_property=(value_property or None) if kind == "event" else None,
        window_days=window_days,
    )
    session.add(goal)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="analytics.goal.define",
        entity_type="goal",
        entity_id=goal.id,
        after={
            "key": key,
            "kind": kind,
            "event": goal.event,
            "purpose": goal.purpose_key,
            "question": goal.question_key,
            "window_days": window_days,
        },
    )
    return goal


def _exists(session: Session, model: type[Purpose] | type[Question], key: str | None) -> bool:
    return bool(key) and session.scalar(select(model.id).where(model.key == key)) is not None


def all_goals(*, session: Session) -> list[EventGoal]:
    goals = session.scalars(select(Goal).order_by(Goal.key)).all()
    return [
        EventGoal(
            key=g.key,
            event=g.event or "",
            window_days=g.window_days,
            value_property=g.value_property,
            filters=dict(g.filters or {}),
            kind=g.kind,
            purpose=g.purpose_key,
            question=g.question_key,
        )
        for g in goals
    ]


def goal_names(session: Session) -> dict[str, str]:
    """Each goal's name for staff, by key."""
    return {key: name for key, name in session.execute(select(Goal.key, Goal.name))}


def reached_between(*, session: Session, key: str, since: datetime, until: datetime) -> set[int]:
    """The customers who reached goal ``key`` from ``since`` to ``until`` (both included), read
    from the operational tables rather than the lake, so a goal reached a minute ago counts:
    the goal's event with its filters, a customer's first grant of the purpose, an answer to
    the question (or any), or a profile created. An unknown key: nobody."""
    goal = session.scalar(select(Goal).where(Goal.key == key))
    if goal is None:
        return set()
    if goal.kind == "consent":
        first = (
            select(ConsentRecord.customer_id, func.min(ConsentRecord.recorded_at).label("at"))
            .where(
                ConsentRecord.purpose_key == goal.purpose_key,
                ConsentRecord.decision == ConsentDecision.granted,
            )
            .group_by(ConsentRecord.customer_id)
            .subquery()
        )
        return set(
            session.scalars(
                select(first.c.customer_id).where(first.c.at >= since, first.c.at <= until)
            )
        )
    if goal.kind == "answer":
        answered = select(Response.customer_id).where(
            Response.answered_at >= since, Response.answered_at <= until
        )
        if goal.question_key:
            answered = answered.join(Question, Question.id == Response.question_id).where(
                Question.key == goal.question_key
            )
        return set(session.scalars(answered))
    if goal.kind == "signup":
        return set(
            session.scalars(
                select(Customer.id).where(
                    Customer.created_at >= since, Customer.created_at <= until
                )
            )
        )
    rows = session.execute(
        select(Event.customer_id, Event.payload).where(
            Event.name == goal.event,
            Event.timestamp >= since,
            Event.timestamp <= until,
            Event.customer_id.is_not(None),
        )
    )
    wanted = dict(goal.filters or {})
    return {
        customer_id
        for customer_id, payload in rows
        if customer_id is not None and _matches((payload or {}).get("properties") or {}, wanted)
    }


def _matches(properties: dict[str, Any], wanted: dict[str, str]) -> bool:
    """Every filter property equals its value as text, as the goals reports compare (a JSON
    string by its text, anything else by its JSON: ``true``, ``3``)."""
    return all(
        name in properties and _text(properties[name]) == value for name, value in wanted.items()
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
