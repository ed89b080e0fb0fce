"""The question catalogue: built-in questions in five languages, and versioned editing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.dialogues.models import Question, QuestionType, QuestionVersion
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.i18n import LANGUAGES

RECOVERY = "recovery"
SCALES: dict[str, tuple[int, int]] = {
    QuestionType.nps: (0, 10),
    QuestionType.csat: (1, 5),
    QuestionType.ces: (1, 7),
    QuestionType.rating: (1, 5),
}
CHOICE_TYPES = (QuestionType.single, QuestionType.multiple, QuestionType.relationship)


@dataclass(frozen=True)
class Wording:
    """What one version says, in every language; validated before it becomes a version."""

    texts: dict[str, str]
    follow_up: dict[str, str] | None
    options: list[dict[str, Any]]

    def check(self) -> None:
        errors = [
            FieldError(f"texts.{lang}", "is required")
            for lang in LANGUAGES
            if not self.texts.get(lang, "").strip()
        ]
        if self.follow_up is not None:
            errors += [
                FieldError(f"follow_up.{lang}", "is required")
                for lang in LANGUAGES
                if not self.follow_up.get(lang, "").strip()
            ]
        for index, option in enumerate(self.options):
            if not str(option.get("value", "")).strip():
                errors.append(FieldError(f"options.{index}.value", "is required"))
            errors += [
                FieldError(f"options.{index}.{lang}", "is required")
                for lang in LANGUAGES
                if not option.get("labels", {}).get(lang, "").strip()
            ]
        if errors:
            raise InvalidInput(errors)


def _add(session: Session, spec: dict[str, Any], *, author: str) -> Question:
    wording = Wording(spec["texts"], spec.get("follow_up"), list(spec.get("options") or []))
    wording.check()
    question = Question(
        key=spec["key"],
        type=spec["type"],
        relationship_kind=spec.get("relationship_kind"),
        priority=spec.get("priority", 1),
        recontact_days=spec.get("recontact_days", 90),
        trigger_event=spec.get("trigger_event"),
        segment_key=spec.get("segment_key"),  # ask only this segment's members (audience.py)
        delay_hours=spec.get("delay_hours", 0),
        period_days=spec.get("period_days"),
        profiling=spec.get("profiling", False),
        active=True,
        current_version=1,
    )
    session.add(question)
    session.flush()
    session.add(
        QuestionVersion(
            question_id=question.id,
            version=1,
            texts=wording.texts,
            follow_up=wording.follow_up,
            options=wording.options,
            created_by=author,
        )
    )
    return question


def create_question(*, session: Session, spec: dict[str, Any], actor: Actor) -> Question:
    if spec.get("type") not in set(QuestionType):
        raise InvalidInput(FieldError("type", f"use one of {', '.join(QuestionType)}"))
    if session.scalar(select(Question.id).where(Question.key == spec.get("key"))):
        raise InvalidInput(FieldError("key", "a question with this key exists"))
    question = _add(session, spec, author=actor.label)
    record(
        session=session,
        actor=actor,
        action="dialogue.question.create",
        entity_type="dialogue_question",
        entity_id=question.id,
        after={"key": question.key},
    )
    return question


def edit_question(
    *, session: Session, key: str, wording: Wording, actor: Actor, settings: dict[str, Any]
) -> QuestionVersion:
    """A new version with the new wording; older responses keep pointing at theirs."""
    question = get_question(session=session, key=key)
    wording.check()
    for name in ("priority", "recontact_days", "active", "delay_hours", "trigger_event"):
        if name in settings:
            setattr(question, name, settings[name])
    question.current_version += 1
    version = QuestionVersion(
        question_id=question.id,
        version=question.current_version,
        texts=wording.texts,
        follow_up=wording.follow_up,
        options=wording.options,
        created_by=actor.label,
    )
    session.add(version)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="dialogue.question.edit",
        entity_type="dialogue_question",
        entity_id=question.id,
        after={"version": version.version},
    )
    return version


def get_question(*, session: Session, key: str) -> Question:
    question = session.scalar(select(Question).where(Question.key == key))
    if question is None:
        raise NotFound(f"question {key!r} does not exist")
    return question


def list_questions(*, session: Session) -> list[Question]:
    return list(session.scalars(select(Question).order_by(Question.priority.desc(), Question.key)))


def current_version(*, session: Session, question: Question) -> QuestionVersion:
    version = session.scalar(
        select(QuestionVersion).where(
            QuestionVersion.question_id == question.id,
            QuestionVersion.version == question.current_version,
        )
    )
    assert version is not None  # every question is created with version 1
    return version


def text_in(texts: dict[str, str] | None, language: str) -> str:
    if not texts:
        return ""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()))


def options_in(version: QuestionVersion, language: str) -> list[tuple[str, str]]:
    return [(str(o["value"]), text_in(o["labels"], language)) for o in version.options]


def texts_in_english(*, session: Session) -> list[str]:
    """The English text of every version of every question: what the company already asks
    about (the explorer's unspoken needs are the themes none of these covers)."""
    texts = session.scalars(select(QuestionVersion.texts))
    return [t.get("en", "") for t in texts if isinstance(t, dict) and t.get("en")]
