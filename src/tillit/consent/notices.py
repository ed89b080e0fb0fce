"""Purposes, their versioned and localised notices, and the topic catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.consent.evidence import sha256_text
from tillit.consent.models import Notice, Purpose, Topic
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.i18n import LANGUAGES


@dataclass(frozen=True)
class NoticeText:
    title: str
    what_we_do: str
    what_you_get: str


def notice_text_hash(text: NoticeText) -> str:
    """SHA-256 of exactly what the person is shown, so a record proves which words they saw."""
    return sha256_text("\n\n".join((text.title, text.what_we_do, text.what_you_get)))


def list_purposes(*, session: Session, active_only: bool = True) -> list[Purpose]:
    query = select(Purpose).order_by(Purpose.position, Purpose.id)
    if active_only:
        query = query.where(Purpose.active.is_(True))
    return list(session.scalars(query))


def get_purpose(*, session: Session, key: str) -> Purpose:
    purpose = session.scalar(select(Purpose).where(Purpose.key == key))
    if purpose is None:
        raise NotFound(f"no purpose {key!r}")
    return purpose


def current_notice(*, session: Session, purpose: Purpose, language: str) -> Notice | None:
    """The newest version in ``language``, falling back to English."""
    for wanted in (language, "en"):
        notice = session.scalar(
            select(Notice)
            .where(Notice.purpose_id == purpose.id, Notice.language == wanted)
            .order_by(Notice.version.desc())
            .limit(1)
        )
        if notice is not None:
            return notice
    return None


def notice_versions(*, session: Session, purpose: Purpose) -> list[Notice]:
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.purpose_id == purpose.id)
            .order_by(Notice.version.desc(), Notice.language)
        )
    )


def add_notice_version(
    *, session: Session, purpose_key: str, texts: dict[str, NoticeText], actor: Actor
) -> int:
    """New wording is a new version, in every language at once; old versions stay for records."""
    missing = [language for language in LANGUAGES if language not in texts]
    errors = [FieldError(f"texts.{language}", "a translation is required") for language in missing]
    for language, text in texts.items():
        if language not in LANGUAGES:
            errors.append(FieldError(f"texts.{language}", "unsupported language"))
        for field in ("title", "what_we_do", "what_you_get"):
            if not getattr(text, field).strip():
                errors.append(FieldError(f"texts.{language}.{field}", "must not be empty"))
    if errors:
        raise InvalidInput(errors)
    purpose = get_purpose(session=session, key=purpose_key)
    latest = session.scalar(select(func.max(Notice.version)).where(Notice.purpose_id == purpose.id))
    version = (latest or 0) + 1
    for language, given in texts.items():
        text = NoticeText(given.title.strip(), given.what_we_do.strip(), given.what_you_get.strip())
        session.add(
            Notice(
                purpose_id=purpose.id,
                version=version,
                language=language,
                title=text.title,
                what_we_do=text.what_we_do,
                what_you_get=text.what_you_get,
                text_hash=notice_text_hash(text),
            )
        )
    session.flush()
    record(
        session=session,
        actor=actor,
        action="notice.version",
        entity_type="purpose",
        entity_id=purpose.key,
        after={"version": version},
    )
    return version


def list_topics(*, session: Session) -> list[Topic]:
    return list(
        session.scalars(
            select(Topic).where(Topic.active.is_(True)).order_by(Topic.position, Topic.id)
        )
    )


def topic_name(topic: Topic, language: str) -> str:
    return topic.names.get(language) or topic.names.get("en") or topic.key
