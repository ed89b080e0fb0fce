"""What the faces read: each promise against what was measured, and one customer's record.

Everything here reads the stored measurement (``promise_day``, ``promise_week``,
``promise_breach``); nothing starts an analytics engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.campaigns.models import Campaign
from tillit.config import Settings
from tillit.dialogues.cases import open_for_customer
from tillit.errors import Conflict, NotFound
from tillit.i18n import N_
from tillit.promises import catalogue, slo
from tillit.promises.models import Promise, PromiseBreach, PromiseDay, PromiseWeek
from tillit.promises.store import all_promises, text_of
from tillit.storage.base import utcnow

PUBLIC_DAYS = 90
# What a broken instance was about, in the customer's words (msgids).
CUSTOMER_EVIDENCE = {
    "case": N_("It was about your complaint."),
    "send": N_("It was about a message we sent you."),
    "request": N_("It was about your request about your data."),
    "answer": N_("It was about the score you gave us."),
    "consent": N_("It was about your withdrawal of consent."),
}


@dataclass(frozen=True)
class Week:
    week: date
    good: int
    total: int
    low: float
    high: float

    @property
    def kept(self) -> float | None:
        return self.good / self.total if self.total else None


@dataclass(frozen=True)
class Summary:
    key: str
    kind: str
    label: str  # plain words for staff
    text: str  # in the language asked for
    target: float
    segment_key: str | None
    active: bool
    window: slo.Share  # the rolling 28 days
    budget_remaining: float
    burns: list[slo.Burn]
    last_90_days: slo.Share
    broken: int  # every broken instance recorded
    weeks: list[Week]
    measured_at: datetime | None

    @property
    def alerting(self) -> bool:
        return any(burn.firing for burn in self.burns)

    @property
    def meets_target(self) -> bool:
        kept = self.window.kept
        return kept is None or kept >= self.target


def _days(session: Session, promise_id: int) -> dict[date, tuple[int, int]]:
    rows = session.execute(
        select(PromiseDay.day, PromiseDay.good, PromiseDay.total).where(
            PromiseDay.promise_id == promise_id
        )
    )
    return {day: (good, total) for day, good, total in rows}


def summarise(
    session: Session, promise: Promise, settings: Settings, language: str, today: date
) -> Summary:
    days = _days(session, promise.id)
    window = slo.window(days, end=today, length=slo.WINDOW_DAYS)
    weeks = [
        Week(week, good, total, *slo.Share(good, total).interval)
        for week, good, total in session.execute(
            select(PromiseWeek.week, PromiseWeek.good, PromiseWeek.total)
            .where(PromiseWeek.promise_id == promise.id)
            .order_by(PromiseWeek.week)
        )
    ]
    broken = session.scalar(
        select(func.count())
        .select_from(PromiseBreach)
        .where(PromiseBreach.promise_id == promise.id)
    )
    return Summary(
        key=promise.key,
        kind=promise.kind,
        label=catalogue.KINDS[promise.kind].label,
        text=text_of(promise, language, settings),
        target=promise.target,
        segment_key=promise.segment_key,
        active=promise.active,
        window=window,
        budget_remaining=slo.budget_remaining(window, promise.target),
        burns=slo.burns(days, end=today, target=promise.target),
        last_90_days=slo.window(days, end=today, length=PUBLIC_DAYS),
        broken=int(broken or 0),
        weeks=weeks,
        measured_at=promise.measured_at,
    )


def summaries(
    *,
    session: Session,
    settings: Settings,
    language: str = "en",
    active_only: bool = False,
    now: datetime | None = None,
) -> list[Summary]:
    today = (now or utcnow()).astimezone(UTC).date()
    return [
        summarise(session, promise, settings, language, today)
        for promise in all_promises(session=session, active_only=active_only)
    ]


@dataclass(frozen=True)
class Breach:
    id: int
    promise_key: str
    evidence_kind: str
    evidence_id: int
    started_at: datetime
    broke_at: datetime
    channel: str | None
    campaign: str | None  # the key of the campaign that planned the send
    campaign_name: str | None  # its name (None: no campaign, or one since deleted)
    team: str | None  # the case's assignee
    source: str | None
    case_id: int | None
    customer_id: int


def _breach(key: str, row: PromiseBreach, names: dict[str, str] | None = None) -> Breach:
    return Breach(
        id=row.id,
        promise_key=key,
        evidence_kind=row.evidence_kind,
        evidence_id=row.evidence_id,
        started_at=row.started_at,
        broke_at=row.broke_at,
        channel=row.channel,
        campaign=row.campaign,
        campaign_name=(names or {}).get(row.campaign) if row.campaign else None,
        team=row.team,
        source=row.source,
        case_id=row.case_id,
        customer_id=row.customer_id,
    )


def _campaign_names(session: Session, keys: set[str | None]) -> dict[str, str]:
    wanted = sorted(k for k in keys if k)
    if not wanted:
        return {}
    rows = session.execute(select(Campaign.key, Campaign.name).where(Campaign.key.in_(wanted)))
    return {key: name for key, name in rows}


def breaches(*, session: Session, key: str, limit: int = 200) -> list[Breach]:
    """The latest broken instances of one promise, newest first (the staff drill-down)."""
    rows = session.execute(
        select(Promise.key, PromiseBreach)
        .join(Promise, Promise.id == PromiseBreach.promise_id)
        .where(Promise.key == key)
        .order_by(PromiseBreach.broke_at.desc(), PromiseBreach.id.desc())
        .limit(limit)
    ).all()
    names = _campaign_names(session, {row.campaign for _, row in rows})
    return [_breach(k, row, names) for k, row in rows]


@dataclass(frozen=True)
class Place:
    """One place a promise broke: a campaign, a team or a channel (None: none recorded, e.g.
    a message no campaign planned or a case nobody was assigned), and how often."""

    value: str | None
    name: str | None  # a campaign's name; otherwise None
    broken: int


@dataclass(frozen=True)
class WhereBroken:
    """Every broken instance of one promise counted per campaign, team and channel, most
    first."""

    campaign: list[Place]
    team: list[Place]
    channel: list[Place]

    @property
    def total(self) -> int:
        return sum(place.broken for place in self.channel)


WHERE = {
    "campaign": PromiseBreach.campaign,
    "team": PromiseBreach.team,
    "channel": PromiseBreach.channel,
}


def where_broken(*, session: Session, key: str) -> WhereBroken:
    """Where one promise broke: its broken instances per campaign, per team and per channel
    (each over all of them, not only the latest shown)."""
    places: dict[str, list[tuple[str | None, int]]] = {}
    for name, column in WHERE.items():
        counted = func.count().label("broken")
        rows = session.execute(
            select(column, counted)
            .join(Promise, Promise.id == PromiseBreach.promise_id)
            .where(Promise.key == key)
            .group_by(column)
        ).all()
        # Most first; the unrecorded last among equals, then by value.
        places[name] = sorted(
            ((value, int(count)) for value, count in rows),
            key=lambda item: (-item[1], item[0] is None, item[0] or ""),
        )
    names = _campaign_names(session, {value for value, _ in places["campaign"]})
    return WhereBroken(
        campaign=[Place(v, names.get(v) if v else None, n) for v, n in places["campaign"]],
        team=[Place(v, None, n) for v, n in places["team"]],
        channel=[Place(v, None, n) for v, n in places["channel"]],
    )


@dataclass(frozen=True)
class CustomerPromise:
    key: str
    text: str
    instances: int  # how many of the customer's instances are recorded broken or kept
    broken: list[Breach]


def customer_record(
    *, session: Session, customer_id: int, settings: Settings, language: str
) -> list[CustomerPromise]:
    """Each active promise in the customer's language, with the customer's broken instances."""
    found: dict[str, list[Breach]] = {}
    rows = session.execute(
        select(Promise.key, PromiseBreach)
        .join(Promise, Promise.id == PromiseBreach.promise_id)
        .where(PromiseBreach.customer_id == customer_id)
        .order_by(PromiseBreach.broke_at.desc())
    )
    for key, row in rows:
        found.setdefault(key, []).append(_breach(key, row))
    return [
        CustomerPromise(
            key=p.key,
            text=text_of(p, language, settings),
            instances=len(found.get(p.key, [])),
            broken=found.get(p.key, []),
        )
        for p in all_promises(session=session, active_only=True)
    ]


def open_case_for_breach(
    *, session: Session, settings: Settings, customer_id: int, breach_id: int, actor: Actor
) -> int:
    """Opens a case about one of the customer's own broken promises (once); returns its id."""
    row = session.get(PromiseBreach, breach_id, with_for_update=True)
    if row is None or row.customer_id != customer_id:
        raise NotFound("no such broken promise")
    if row.case_id is not None:
        raise Conflict("a case about this is open already")
    promise = session.get(Promise, row.promise_id)
    key = promise.key if promise else "unknown"
    case = open_for_customer(
        session=session,
        settings=settings,
        customer_id=customer_id,
        rule=f"promise:{key}",
        body=f"The customer asked about a broken promise: {key}, {row.evidence_kind} "
        f"{row.evidence_id}, broken at {row.broke_at.isoformat(timespec='minutes')}.",
    )
    row.case_id = case.id
    record(
        session=session,
        actor=actor,
        action="promise.case_opened",
        entity_type="promise_breach",
        entity_id=row.id,
        after={"case_id": case.id, "promise": key},
    )
    return case.id


def as_json(summary: Summary) -> dict[str, Any]:
    low, high = summary.window.interval
    return {
        "key": summary.key,
        "kind": summary.kind,
        "text": summary.text,
        "target": summary.target,
        "segment_key": summary.segment_key,
        "active": summary.active,
        "kept_share": summary.window.kept,
        "kept_low": low,
        "kept_high": high,
        "good": summary.window.good,
        "total": summary.window.total,
        "window_days": slo.WINDOW_DAYS,
        "budget_remaining": None
        if summary.window.total == 0
        else round(summary.budget_remaining, 6),
        "alerting": summary.alerting,
        "broken": summary.broken,
        "measured_at": summary.measured_at.isoformat() if summary.measured_at else None,
        "weeks": [
            {
                "week": w.week.isoformat(),
                "good": w.good,
                "total": w.total,
                "low": w.low,
                "high": w.high,
            }
            for w in summary.weeks
        ],
    }
