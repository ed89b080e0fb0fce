"""Tables of the dialogues area: questions (versioned), asks, responses, cases and their notes.

A question's wording lives in :class:`QuestionVersion`; editing adds a version and every ask and
response points to the version the customer actually saw.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tillit.storage.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class QuestionType(StrEnum):
    nps = "nps"  # 0-10
    csat = "csat"  # 1-5
    ces = "ces"  # 1-7, 7 = very easy
    rating = "rating"  # 1-5 stars
    single = "single"
    multiple = "multiple"
    text = "text"
    relationship = "relationship"  # the answer changes the customer's own preferences


class AskStatus(StrEnum):
    scheduled = "scheduled"  # waiting for its time (a trigger's delay) or an e-mail run
    pending = "pending"  # delivered or shown; waiting for an answer
    answered = "answered"
    declined = "declined"  # "don't ask me this": never asked again
    expired = "expired"
    held = "held"  # the contact policy or a fatigue rule stopped it; it never reached anyone


# Asks that reached, or are about to reach, the customer: they count for the cool-down.
COUNTED = (AskStatus.pending, AskStatus.answered, AskStatus.declined, AskStatus.expired)


class CaseStatus(StrEnum):
    open = "open"
    assigned = "assigned"
    resolved = "resolved"


class Question(Base):
    __tablename__ = "dialogue_question"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    relationship_kind: Mapped[str | None] = mapped_column(String(16))  # channels, frequency, ...
    priority: Mapped[int] = mapped_column(Integer, default=1)  # 0-10
    recontact_days: Mapped[int] = mapped_column(Integer, default=90)
    trigger_event: Mapped[str | None] = mapped_column(String(100))  # e.g. "Order Completed"
    # Ask only the members of this analytics segment (its key); None: anyone (audience.py).
    segment_key: Mapped[str | None] = mapped_column(String(64))
    delay_hours: Mapped[int] = mapped_column(Integer, default=0)
    period_days: Mapped[int | None] = mapped_column(Integer)  # periodic, e.g. relationship NPS
    profiling: Mapped[bool] = mapped_column(Boolean, default=False)  # progressive profiling
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QuestionVersion(Base):
    __tablename__ = "dialogue_question_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("dialogue_question.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    texts: Mapped[dict[str, str]] = mapped_column(JsonDoc)  # language -> question
    follow_up: Mapped[dict[str, str] | None] = mapped_column(JsonDoc)  # language -> question
    options: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="system")

    __table_args__ = (UniqueConstraint("question_id", "version"),)


class Ask(Base):
    """One question put to one customer, with why it was chosen and what became of it."""

    __tablename__ = "dialogue_ask"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("dialogue_question.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("dialogue_question_version.id"))
    channel: Mapped[str] = mapped_column(String(16))  # web, email, widget, api
    trigger: Mapped[str] = mapped_column(String(100))  # event name, periodic, profiling, recovery
    reason: Mapped[str] = mapped_column(Text)  # "asked because ..."
    status: Mapped[str] = mapped_column(String(16), default=AskStatus.pending)
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)  # recovery: no cool-down
    language: Mapped[str] = mapped_column(String(8))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("contact_decision.id"))
    held_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_dialogue_ask_customer_created", "customer_id", "created_at"),
        Index("ix_dialogue_ask_status_due", "status", "due_at"),
        # "Is this question already planned for this customer?" (scheduling) is asked once per
        # customer and question; without it SQLite read every scheduled ask through the status
        # index, so planning slowed as the queue grew (a 100,000-customer demo stalled on it).
        Index("ix_dialogue_ask_customer_question", "customer_id", "question_id", "status"),
    )


class Response(Base):
    __tablename__ = "dialogue_response"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("dialogue_ask.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("dialogue_question.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dialogue_question_version.id"))
    score: Mapped[int | None] = mapped_column(Integer)
    choices: Mapped[list[str] | None] = mapped_column(JsonDoc)
    text: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Case(Base):
    """A closed-loop follow-up of an unhappy (or worried) customer, with two SLAs."""

    __tablename__ = "dialogue_case"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("dialogue_response.id"))
    rule: Mapped[str] = mapped_column(String(64))  # which rule opened it: nps<=6, word:refund, ...
    priority: Mapped[str] = mapped_column(String(8))  # high, normal, low
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.open, index=True)
    assignee: Mapped[str | None] = mapped_column(String(200))
    recovery_ask_id: Mapped[int | None] = mapped_column(ForeignKey("dialogue_ask.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    first_response_due: Mapped[datetime] = mapped_column(UtcDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseNote(Base):
    """Everything that happened on a case; replies are the ones the customer sees."""

    __tablename__ = "dialogue_case_note"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dialogue_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # note, reply, assign, escalate, resolve
    body: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
