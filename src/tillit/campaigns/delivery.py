"""Scheduled campaign messages handed to the outbox (:mod:`tillit.outbox`), which sends each
exactly once, rechecks the contact policy at the moment of sending and records the send, and
what the outbox says of a campaign's messages since."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tillit import outbox
from tillit.campaigns.definitions import CampaignDefinition, content_for, fill
from tillit.campaigns.models import Campaign, CampaignMessage
from tillit.config import Settings
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory
from tillit.vocabulary import OutboundChannel

SOURCE_PREFIX = "campaign:"


def source_of(key: str) -> str:
    """The outbox's name for this campaign's messages."""
    return f"{SOURCE_PREFIX}{key}"


def enqueue_messages(
    session: Session,
    campaign: Campaign,
    definition: CampaignDefinition,
    messages: list[CampaignMessage],
    people: dict[int, tuple[str, str, list[str]]],
) -> int:
    """Each scheduled message with its text in the customer's language and their personal
    fields filled in; idempotent on the message's dedupe key."""
    outgoing = []
    for message in messages:
        if message.channel is None or message.not_before is None or message.dedupe_key is None:
            continue
        found = content_for(definition, message.language or "")
        if found is None:
            continue
        language, content = found
        first_name = people.get(message.customer_id, ("", "", []))[1]
        values = {"first_name": first_name, "name": first_name}
        outgoing.append(
            outbox.Outgoing(
                customer_id=message.customer_id,
                channel=OutboundChannel(message.channel),
                kind=definition.kind,
                topic=definition.topics[0] if definition.topics else None,
                purpose_key=definition.purpose,
                language=language,
                subject=fill(content.subject, values).strip(),
                body=fill(content.body, values),
                not_before=message.not_before,
                source=source_of(campaign.key),
                dedupe_key=message.dedupe_key,
                decision_id=message.decision_id,
            )
        )
    return outbox.enqueue(session, outgoing) if outgoing else 0


def states(session: Session, source: str) -> dict[str, int]:
    return outbox.states_by_source(session, source)


def send_campaign(
    sessions: SessionFactory,
    settings: Settings,
    key: str,
    *,
    limit: int | None = None,
    now: datetime | None = None,
) -> str:
    """Send what is due in the outbox (this campaign's messages among any others due: the
    outbox sends in order of time, not by planner) and say where this campaign stands."""
    report = outbox.send_due(sessions, settings, now=now or utcnow(), limit=limit)
    with sessions() as session:
        counts = states(session, source_of(key))
    done = ", ".join(f"{name} {count}" for name, count in report.counts().items() if count)
    standing = ", ".join(f"{name} {count}" for name, count in counts.items())
    return f"this round: {done or 'nothing was due'}; this campaign's messages: {standing}"
