"""What the staff home shows: one read of each area, each tile small enough to stay fast.

Every figure is counted from the records themselves (the consent ledger, the preference and
contact-decision logs, asks and answers, cases, data requests, themes), never kept beside them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.models import ConsentDecision, ConsentRecord, Purpose
from tillit.contact.service import allowed_by_channel
from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.customers.models import Customer, CustomerStatus
from tillit.dialogues import metrics
from tillit.dialogues.models import Case, CaseStatus
from tillit.feedback.overview import theme_overview
from tillit.privacy.models import DataRequest
from tillit.vocabulary import MessageKind

MESSAGE_DAYS = 30  # the messages tile counts this many days back
NEGATIVE_THEMES = 3


@dataclass(frozen=True)
class PurposeRate:
    key: str
    granted: int
    share: float | None  # of active customers


@dataclass(frozen=True)
class ChannelReach:
    channel: str
    reachable: int  # a marketing message on this channel would be allowed now


@dataclass(frozen=True)
class Messages:
    sent: int
    held: int
    held_by_reason: list[tuple[str, int]]  # most common first


@dataclass(frozen=True)
class CaseLoad:
    open: int
    breached: int  # past their resolution due time, still open
    due_today: int  # not breached yet, due within a day


@dataclass(frozen=True)
class RequestLoad:
    open: int
    overdue: int
    due_this_week: int


@dataclass(frozen=True)
class NegativeTheme:
    id: int
    label: str
    negative_share: float
    volume: int


@dataclass(frozen=True)
class Overview:
    customers: int
    purposes: list[PurposeRate]
    reach: list[ChannelReach]
    messages: Messages
    nps_by_month: list[metrics.Row]
    cases: CaseLoad
    negative_themes: list[NegativeTheme]
    requests: RequestLoad
    measured_at: datetime


def build_overview(*, session: Session, settings: Settings, now: datetime) -> Overview:
    active = list(
        session.scalars(select(Customer.id).where(Customer.status != CustomerStatus.erased))
    )
    return Overview(
        customers=len(active),
        purposes=consent_rates(session=session, customers=len(active)),
        reach=reachable_by_channel(session=session, settings=settings, ids=active, now=now),
        messages=message_counts(session=session, since=now - timedelta(days=MESSAGE_DAYS)),
        nps_by_month=[
            row for row in metrics.compute(session=session, dimension="month") if row.nps_n
        ],
        cases=case_load(session=session, now=now),
        negative_themes=most_negative_themes(session=session),
        requests=request_load(session=session, now=now),
        measured_at=now,
    )


def consent_rates(*, session: Session, customers: int) -> list[PurposeRate]:
    """Per purpose, the customers whose latest decision is a grant."""
    latest = (
        select(
            ConsentRecord.customer_id,
            ConsentRecord.purpose_key,
            func.max(ConsentRecord.sequence).label("sequence"),
        )
        .group_by(ConsentRecord.customer_id, ConsentRecord.purpose_key)
        .subquery()
    )
    granted = dict(
        session.execute(
            select(ConsentRecord.purpose_key, func.count())
            .join(
                latest,
                and_(
                    ConsentRecord.customer_id == latest.c.customer_id,
                    ConsentRecord.sequence == latest.c.sequence,
                ),
            )
            .join(Customer, Customer.id == ConsentRecord.customer_id)
            .where(
                ConsentRecord.decision == ConsentDecision.granted,
                Customer.status != CustomerStatus.erased,
            )
            .group_by(ConsentRecord.purpose_key)
        ).all()
    )
    keys = session.scalars(
        select(Purpose.key).where(Purpose.active.is_(True)).order_by(Purpose.position)
    )
    return [
        PurposeRate(
            key=key,
            granted=granted.get(key, 0),
            share=granted.get(key, 0) / customers if customers else None,
        )
        for key in keys
    ]


def reachable_by_channel(
    *, session: Session, settings: Settings, ids: list[int], now: datetime
) -> list[ChannelReach]:
    """Whom the contact policy would let a marketing message reach now, channel by channel."""
    allowed = allowed_by_channel(
        session=session,
        customer_ids=ids,
        purpose="marketing",
        kind=MessageKind.marketing,
        at=now,
        settings=settings,
    )
    return [ChannelReach(channel=channel, reachable=n) for channel, n in allowed.items()]


def message_counts(*, session: Session, since: datetime) -> Messages:
    sent = session.scalar(
        select(func.count()).select_from(SendRecord).where(SendRecord.sent_at >= since)
    )
    reasons: Counter[str] = Counter()
    held = 0
    for (found,) in session.execute(
        select(DecisionRecord.reasons).where(
            DecisionRecord.decided_at >= since, DecisionRecord.outcome != "allowed"
        )
    ):
        held += 1
        reasons[found[0] if found else "unknown"] += 1
    return Messages(sent=sent or 0, held=held, held_by_reason=reasons.most_common())


def case_load(*, session: Session, now: datetime) -> CaseLoad:
    open_cases = list(
        session.execute(
            select(Case.resolution_due).where(Case.status != CaseStatus.resolved)
        ).scalars()
    )
    breached = sum(due < now for due in open_cases)
    soon = sum(now <= due < now + timedelta(days=1) for due in open_cases)
    return CaseLoad(open=len(open_cases), breached=breached, due_today=soon)


def request_load(*, session: Session, now: datetime) -> RequestLoad:
    due = list(session.scalars(select(DataRequest.due_on).where(DataRequest.status == "open")))
    today = now.date()
    return RequestLoad(
        open=len(due),
        overdue=sum(day < today for day in due),
        due_this_week=sum(today <= day <= today + timedelta(days=7) for day in due),
    )


def most_negative_themes(*, session: Session) -> list[NegativeTheme]:
    themes = [t for t in theme_overview(session=session) if t.volume]
    themes.sort(key=lambda t: (-t.negative_share, -t.volume))
    return [
        NegativeTheme(id=t.id, label=t.label, negative_share=t.negative_share, volume=t.volume)
        for t in themes[:NEGATIVE_THEMES]
    ]
