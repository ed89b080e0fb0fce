"""Sources and their write keys. A write key is shown once, at creation; only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.errors import Conflict, Unauthenticated
from tillit.events import repository
from tillit.events.models import Source
from tillit.storage.bulk import Bulk
from tillit.vocabulary import SourceChannel

WRITE_KEY_PREFIX = "tlw_"


def hash_write_key(write_key: str) -> str:
    return hashlib.sha256(write_key.encode()).hexdigest()


def create_source(
    *,
    session: Session,
    name: str,
    channel: SourceChannel,
    actor: Actor,
    write_key: str | None = None,
) -> tuple[Source, str]:
    """Returns the source and its write key (given, or a new random one)."""
    if session.scalar(select(Source.id).where(Source.name == name)) is not None:
        raise Conflict(f"a source named {name!r} already exists")
    key = write_key or WRITE_KEY_PREFIX + secrets.token_urlsafe(32)
    source = Source(name=name, channel=SourceChannel(channel), write_key_hash=hash_write_key(key))
    session.add(source)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="source.create",
        entity_type="source",
        entity_id=source.id,
        after={"name": name, "channel": str(channel)},
    )
    return source, key


@dataclass(frozen=True)
class SourceRef:
    """What the tracking API needs of a source, read without the ORM on every request."""

    id: int
    name: str
    channel: SourceChannel


def source_for_key(*, session: Session, write_key: str) -> SourceRef:
    row = repository.source_row(Bulk(session), hash_write_key(write_key))
    if row is None or not row[3]:
        raise Unauthenticated("unknown or disabled write key")
    source_id, name, channel, _ = row
    return SourceRef(id=source_id, name=name, channel=SourceChannel(channel))


def get_or_create_source(
    *, session: Session, name: str, channel: SourceChannel, actor: Actor
) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source, _ = create_source(session=session, name=name, channel=channel, actor=actor)
    return source


def list_sources(*, session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))
