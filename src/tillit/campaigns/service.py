"""Campaigns kept: drafted by analysts, approved by admins, planned round by round, every step
audited. Planning loads the audience (a segment's members) a chunk at a time, runs the pure
planner (:mod:`tillit.campaigns.planning`) and stores one row per member with its outcome.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from tillit.analytics import goal_store
from tillit.analytics.models import Goal, Segment, SegmentMember
from tillit.audit.service import Actor, record
from tillit.campaigns import delivery, planning, relevance, send_time
from tillit.campaigns.definitions import (
    CampaignDefinition,
    check_definition,
    content_for,
    fill,
)
from tillit.campaigns.models import Campaign, CampaignMessage, CampaignRound, CampaignStatus
from tillit.config import Settings
from tillit.consent.models import ConsentDecision, ConsentRecord, PreferenceVersion
from tillit.contact import clock
from tillit.contact.log import log_decision
from tillit.contact.models import CAPPED_KINDS, CappedSend, ContactState
from tillit.contact.schema import states_to_table
from tillit.contact.service import company_policy
from tillit.contact.state import load_contact_states
from tillit.contact.tables import DecisionRecord
from tillit.customers.models import Customer
from tillit.errors import Conflict, FieldError, InvalidInput, NotFound
from tillit.events.models import Event
from tillit.experiments import assignment
from tillit.experiments import service as experiments
from tillit.experiments.definitions import ExperimentDefinition
from tillit.experiments.statistics import Comparison, Sample, compare_proportions
from tillit.storage.base import utcnow
from tillit.vocabulary import OutboundChannel

ENTITY = "campaign"
CHUNK = 5000
source_of = delivery.source_of


def definition_of(campaign: Campaign) -> CampaignDefinition:
    return CampaignDefinition.model_validate(campaign.definition)


def snapshot(campaign: Campaign) -> dict[str, Any]:
    return {
        "key": campaign.key,
        "name": campaign.name,
        "status": str(campaign.status),
        "definition": campaign.definition,
        "experiment": campaign.experiment_key,
        "approved_by": campaign.approved_by,
    }


# -- lifecycle ------------------------------------------------------------------------------------


def _check_references(session: Session, definition: CampaignDefinition) -> None:
    errors = []
    if session.scalar(select(Segment.id).where(Segment.key == definition.segment)) is None:
        errors.append(FieldError("segment", f"no segment has the key {definition.segment!r}"))
    if (
        definition.goal is not None
        and session.scalar(select(Goal.id).where(Goal.key == definition.goal)) is None
    ):
        errors.append(FieldError("goal", f"no goal has the key {definition.goal!r}"))
    trigger = definition.schedule.goal
    if trigger is not None and session.scalar(select(Goal.id).where(Goal.key == trigger)) is None:
        errors.append(FieldError("schedule.goal", f"no goal has the key {trigger!r}"))
    if errors:
        raise InvalidInput(errors)


def create_campaign(*, session: Session, definition: CampaignDefinition, actor: Actor) -> Campaign:
    """A draft; a taken key is a Conflict and writes nothing."""
    check_definition(definition)
    _check_references(session, definition)
    if session.scalar(select(Campaign.id).where(Campaign.key == definition.key)):
        raise Conflict(f"a campaign with the key {definition.key!r} already exists")
    campaign = Campaign(
        key=definition.key,
        name=definition.name,
        definition=definition.model_dump(mode="json"),
        status=CampaignStatus.draft,
        created_by=actor.label,
    )
    session.add(campaign)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="campaign.create",
        entity_type=ENTITY,
        entity_id=campaign.key,
        after=snapshot(campaign),
    )
    return campaign


def update_campaign(
    *, session: Session, key: str, definition: CampaignDefinition, actor: Actor
) -> Campaign:
    """A draft's definition replaced by ``definition`` (whose key must be ``key``); an approved
    campaign is not changed (draft a new one). Audited with the fields that changed, before and
    after. Any refusal writes nothing."""
    if definition.key != key:
        raise InvalidInput(
            FieldError(
                "key",
                f"is {definition.key!r}, but the address names {key!r}; a key does not change",
            )
        )
    check_definition(definition)
    campaign = get_campaign(session=session, key=key)
    if campaign.status != CampaignStatus.draft:
        raise Conflict(
            f"campaign {key!r} is {campaign.status}, and only a draft can be changed; "
            "draft a new campaign instead"
        )
    _check_references(session, definition)
    document = definition.model_dump(mode="json")
    changed = sorted(
        name
        for name in document.keys() | campaign.definition.keys()
        if document.get(name) != campaign.definition.get(name)
    )
    before = {name: campaign.definition.get(name) for name in changed}
    campaign.definition = document
    campaign.name = definition.name
    campaign.updated_at = utcnow()
    session.flush()
    record(
        session=session,
        actor=actor,
        action="campaign.update",
        entity_type=ENTITY,
        entity_id=campaign.key,
        before={"definition": before},
        after={"changed": changed, "definition": {name: document.get(name) for name in changed}},
    )
    return campaign


def approve_campaign(*, session: Session, key: str, actor: Actor) -> Campaign:
    """From draft to approved. A campaign with a blast slice or a hold-out gets an experiment
    of its own (started now), whose hashed assignment splits the audience."""
    campaign = get_campaign(session=session, key=key)
    if campaign.status != CampaignStatus.draft:
        raise Conflict(f"campaign {key!r} is {campaign.status}; only a draft can be approved")
    definition = definition_of(campaign)
    before = snapshot(campaign)
    if definition.blast_share or definition.holdout_share:
        campaign.experiment_key = _experiment_for(session, campaign, definition, actor)
    campaign.status = CampaignStatus.approved
    campaign.approved_by = actor.label
    campaign.approved_at = utcnow()
    session.flush()
    record(
        session=session,
        actor=actor,
        action="campaign.approve",
        entity_type=ENTITY,
        entity_id=key,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


def _experiment_for(
    session: Session, campaign: Campaign, definition: CampaignDefinition, actor: Actor
) -> str:
    key = f"campaign-{campaign.key}"[:64]
    relevant = 1 - definition.blast_share - definition.holdout_share
    variants = [{"key": "relevant", "weight": relevant}]
    if definition.blast_share:
        variants.append({"key": "blast", "weight": definition.blast_share})
    if definition.holdout_share:
        variants.append({"key": "holdout", "weight": definition.holdout_share})
    spec = ExperimentDefinition.model_validate(
        {
            "key": key,
            "name": f"Relevance in {campaign.name}"[:200],
            "hypothesis": "Choosing by relevance converts better and loses fewer subscribers "
            "than a blast.",
            "variants": variants,
            "control": "blast" if definition.blast_share else "holdout",
            "segment": definition.segment,
            "primary_goal": definition.goal or "campaign-goal",
            # From the campaign's key: a person falls in the same slice whenever it is planned
            # (and a simulated year is the same year on every run).
            "salt": fingerprint(f"campaign:{campaign.key}"),
        }
    )
    experiments.create_experiment(session=session, definition=spec, actor=actor)
    experiments.start_experiment(session=session, key=key, actor=actor)
    return key


def get_campaign(*, session: Session, key: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.key == key))
    if campaign is None:
        raise NotFound(f"no campaign has the key {key!r}")
    return campaign


def list_campaigns(*, session: Session) -> list[Campaign]:
    return list(
        session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()))
    )


# -- planning -------------------------------------------------------------------------------------


@dataclass
class PlanReport:
    campaign: str
    occurrence: str
    audience: int = 0
    allowed: int = 0
    relevant: int = 0
    scheduled: int = 0
    held: dict[str, int] = field(default_factory=dict)
    already: bool = False  # this round had been planned before: nothing new was written


def occurrence_of(definition: CampaignDefinition, now: datetime) -> str:
    if definition.schedule.type == "once":
        return "once"
    if definition.schedule.type == "recurring":
        return now.astimezone(UTC).date().isoformat()
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def send_at(definition: CampaignDefinition, now: datetime) -> datetime:
    at = definition.schedule.at
    return max(at, now) if at is not None else now


def _audience(session: Session, definition: CampaignDefinition, now: datetime) -> list[int]:
    query = (
        select(SegmentMember.customer_id)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(Segment.key == definition.segment)
        .order_by(SegmentMember.customer_id)
    )
    ids = list(session.scalars(query))
    if definition.schedule.type == "triggered" and definition.schedule.event:
        since = now - timedelta(days=1)
        triggered = set(
            session.scalars(
                select(Event.customer_id).where(
                    Event.name == definition.schedule.event,
                    Event.timestamp >= since,
                    Event.customer_id.is_not(None),
                )
            )
        )
        ids = [customer_id for customer_id in ids if customer_id in triggered]
    if definition.schedule.type == "triggered" and definition.schedule.goal:
        reached = goal_store.reached_between(
            session=session, key=definition.schedule.goal, since=now - timedelta(days=1), until=now
        )
        ids = [customer_id for customer_id in ids if customer_id in reached]
    return ids


def plan_campaign(
    *,
    session: Session,
    settings: Settings,
    key: str,
    actor: Actor,
    now: datetime | None = None,
) -> PlanReport:
    """Plan this round of the campaign for every member of its audience; idempotent per round
    (a round planned before is reported, not planned again). Runs in the caller's
    transaction: the caller commits, and a failure writes nothing."""
    campaign = get_campaign(session=session, key=key)
    if campaign.status == CampaignStatus.draft:
        raise Conflict(f"campaign {key!r} is a draft; an admin approves it before it is planned")
    now = now or utcnow()
    definition = definition_of(campaign)
    occurrence = occurrence_of(definition, now)
    existing = session.scalar(
        select(CampaignRound).where(
            CampaignRound.campaign_id == campaign.id, CampaignRound.occurrence == occurrence
        )
    )
    if existing is None and campaign.status == CampaignStatus.done:
        raise Conflict(f"campaign {key!r} is done; it was planned once, as it was meant to be")
    if existing is not None:
        return PlanReport(
            campaign=key,
            occurrence=occurrence,
            audience=existing.audience,
            allowed=existing.allowed,
            relevant=existing.relevant,
            scheduled=existing.scheduled,
            held=dict(existing.held),
            already=True,
        )
    round_ = CampaignRound(campaign_id=campaign.id, occurrence=occurrence, planned_at=now)
    session.add(round_)
    session.flush()
    report = PlanReport(campaign=key, occurrence=occurrence)
    ids = _audience(session, definition, now)
    at = send_at(definition, now)
    policy = company_policy(session=session, settings=settings)
    groups = (
        assignment.assign_many(session=session, key=campaign.experiment_key, customer_ids=ids)
        if campaign.experiment_key
        else {}
    )
    held: Counter[str] = Counter()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        counts = _plan_chunk(
            session, settings, campaign, definition, round_, part, groups, at, now, policy
        )
        report.audience += counts.audience
        report.allowed += counts.allowed
        report.relevant += counts.relevant
        report.scheduled += counts.scheduled
        held.update(counts.held)
    report.held = dict(held)
    round_.audience, round_.allowed = report.audience, report.allowed
    round_.relevant, round_.scheduled = report.relevant, report.scheduled
    round_.held = report.held
    before = str(campaign.status)
    campaign.status = (
        CampaignStatus.done if definition.schedule.type == "once" else CampaignStatus.running
    )
    session.flush()
    record(
        session=session,
        actor=actor,
        action="campaign.plan",
        entity_type=ENTITY,
        entity_id=key,
        before={"status": before},
        after={
            "status": str(campaign.status),
            "occurrence": occurrence,
            "audience": report.audience,
            "scheduled": report.scheduled,
            "held": report.held,
        },
    )
    return report


_LATEST_PREFERENCES = (
    select(PreferenceVersion.customer_id, func.max(PreferenceVersion.version).label("version"))
    .group_by(PreferenceVersion.customer_id)
    .subquery()
)


def _customers(session: Session, ids: list[int]) -> dict[int, tuple[str, str, list[str]]]:
    """id -> (language, first name, channel order)."""
    found: dict[int, tuple[str, str, list[str]]] = {}
    for customer_id, name, locale in session.execute(
        select(Customer.id, Customer.name, Customer.locale).where(Customer.id.in_(ids))
    ):
        first = (name or "").split(" ")[0]
        found[customer_id] = (locale.split("-")[0], first, [])
    documents = session.execute(
        select(PreferenceVersion.customer_id, PreferenceVersion.document)
        .join(
            _LATEST_PREFERENCES,
            (PreferenceVersion.customer_id == _LATEST_PREFERENCES.c.customer_id)
            & (PreferenceVersion.version == _LATEST_PREFERENCES.c.version),
        )
        .where(PreferenceVersion.customer_id.in_(ids))
    )
    for customer_id, document in documents:
        if customer_id in found:
            language, first, _ = found[customer_id]
            found[customer_id] = (
                document.get("language") or language,
                first,
                list(document.get("channel_order") or []),
            )
    return found


def _events(
    session: Session, definition: CampaignDefinition, ids: list[int], at: datetime
) -> pa.Table:
    signals = definition.relevance.signals
    names = sorted({signal.event for signal in signals})
    properties = sorted({s.property for s in signals if s.property is not None})
    columns: dict[str, list[Any]] = {"row": [], "name": [], "timestamp": []}
    columns.update({name: [] for name in properties})
    if names:
        position = {customer_id: row for row, customer_id in enumerate(ids)}
        since = at - timedelta(days=definition.relevance.window_days)
        rows = session.execute(
            select(Event.customer_id, Event.name, Event.timestamp, Event.payload).where(
                Event.customer_id.in_(ids),
                Event.name.in_(names),
                Event.timestamp >= since,
                Event.timestamp <= at,
            )
        )
        for customer_id, name, timestamp, payload in rows:
            props = (payload or {}).get("properties") or {}
            columns["row"].append(position[customer_id])
            columns["name"].append(name)
            columns["timestamp"].append(timestamp)
            for prop in properties:
                value = props.get(prop)
                columns[prop].append(None if value is None else str(value))
    return pa.table(
        {
            "row": pa.array(columns["row"], pa.int32()),
            "name": pa.array(columns["name"], pa.string()),
            "timestamp": pa.array(columns["timestamp"], pa.timestamp("us", "UTC")),
            **{prop: pa.array(columns[prop], pa.string()) for prop in properties},
        }
    )


def _pending_sends(
    session: Session, ids: list[int], since: datetime
) -> dict[int, list[tuple[datetime, str]]]:
    """Campaign messages scheduled but not yet sent, of kinds that count toward caps: a cap
    must count a message that is on its way, not only one that left."""
    found: dict[int, list[tuple[datetime, str]]] = {}
    rows = session.execute(
        select(CampaignMessage.customer_id, CampaignMessage.not_before, CampaignMessage.channel)
        .join(DecisionRecord, DecisionRecord.id == CampaignMessage.decision_id)
        .where(
            CampaignMessage.customer_id.in_(ids),
            CampaignMessage.status == "scheduled",
            CampaignMessage.not_before >= since,
            DecisionRecord.sent.is_(False),
            DecisionRecord.kind.in_([kind.value for kind in CAPPED_KINDS]),
        )
    )
    for customer_id, not_before, channel in rows:
        if not_before is not None and channel is not None:
            found.setdefault(customer_id, []).append((not_before, channel))
    return found


def _with_pending(state: ContactState, pending: Sequence[Any]) -> ContactState:
    if not pending:
        return state
    extra = [CappedSend(at=at, channel=OutboundChannel(channel)) for at, channel in pending]
    sends = tuple(sorted((*state.capped_sends, *extra), key=lambda send: send.at))
    return replace(state, capped_sends=sends)


def _last_sent(session: Session, campaign: Campaign, ids: list[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(CampaignMessage.customer_id, func.max(CampaignMessage.not_before))
        .where(
            CampaignMessage.campaign_id == campaign.id,
            CampaignMessage.customer_id.in_(ids),
            CampaignMessage.status == "scheduled",
        )
        .group_by(CampaignMessage.customer_id)
    )
    return {customer_id: at for customer_id, at in rows if at is not None}


def _best_hours(
    session: Session, definition: CampaignDefinition, ids: list[int], states: pa.Table, at: datetime
) -> np.ndarray[Any, np.dtype[np.int8]] | None:
    """Each customer's best hour from their own events (only when the campaign asks for it)."""
    if definition.send_time != "best_hour":
        return None
    position = {customer_id: row for row, customer_id in enumerate(ids)}
    rows = session.execute(
        select(Event.customer_id, Event.timestamp).where(
            Event.customer_id.in_(ids),
            Event.timestamp >= at - timedelta(days=send_time.LOOKBACK_DAYS),
            Event.timestamp <= at,
        )
    )
    found = [(position[c], clock.to_us(t)) for c, t in rows if c is not None]
    zones, names = send_time.zone_codes(states.column("time_zone"))
    return send_time.best_hours(
        rows=np.fromiter((row for row, _ in found), np.int64, len(found)),
        timestamps_us=np.fromiter((us for _, us in found), np.int64, len(found)),
        zones=zones,
        zone_names=names,
    )


def dedupe_key(campaign: Campaign, occurrence: str, customer_id: int) -> str:
    return f"campaign:{campaign.key}:{occurrence}:{customer_id}"


def _plan_chunk(
    session: Session,
    settings: Settings,
    campaign: Campaign,
    definition: CampaignDefinition,
    round_: CampaignRound,
    part: list[int],
    groups: dict[int, str],
    at: datetime,
    now: datetime,
    policy: Any,
) -> PlanReport:
    loaded = load_contact_states(session, part, secret_key=settings.secret_key, now=at)
    ids = [customer_id for customer_id in part if customer_id in loaded]
    counts = PlanReport(campaign=campaign.key, occurrence=round_.occurrence)
    counts.audience = len(part)
    if len(ids) < len(part):  # members whose profile is gone: never contacted
        counts.held["unknown_customer"] = len(part) - len(ids)
    if not ids:
        return counts
    pending = _pending_sends(session, ids, at - timedelta(days=31))
    states = [
        _with_pending(loaded[customer_id], pending.get(customer_id, [])) for customer_id in ids
    ]
    table = states_to_table(states)
    people = _customers(session, ids)
    chose = relevance.chosen_from_column(table.column("chosen_topics"), definition.topics)
    scores = relevance.score(
        definition,
        chose,
        relevance.signal_counts(_events(session, definition, ids, at), definition, len(ids), at),
    )
    group_codes = np.array(
        [planning.GROUPS.index(groups.get(customer_id, "relevant")) for customer_id in ids],
        np.int8,
    )
    last = _last_sent(session, campaign, ids)
    last_us = np.array(
        [clock.to_us(last[c]) if c in last else np.iinfo(np.int64).min // 2 for c in ids],
        np.int64,
    )
    planned = planning.plan_rows(
        states=table,
        definition=definition,
        policy=policy,
        at=at,
        scores=scores,
        groups=group_codes,
        languages=[people[c][0] for c in ids],
        channel_orders=[people[c][2] for c in ids],
        last_sent_us=last_us,
        best_hours=_best_hours(session, definition, ids, table, at),
    )
    counts.allowed = int(planned.allowed.sum())
    counts.relevant = int(planned.relevant.sum())
    counts.scheduled = int(planned.scheduled.sum())
    counts.held.update(planned.held())
    rows = []
    for row, customer_id in enumerate(ids):
        code = int(planned.reason[row])
        channel = planned.channels[planned.channel[row]] if planned.channel[row] >= 0 else None
        message = CampaignMessage(
            campaign_id=campaign.id,
            round_id=round_.id,
            customer_id=customer_id,
            group=planning.GROUPS[group_codes[row]],
            status="scheduled" if code == planning.SCHEDULED else "held",
            reason=None if code == planning.SCHEDULED else planning.REASONS[code],
            channel=channel.value if channel else None,
            language=planned.language[row],
            not_before=clock.from_us(int(planned.not_before_us[row])),
            score=float(scores.score[row]),
            explanation=scores.explanation(row, definition),
            planned_at=now,
        )
        if code == planning.SCHEDULED and channel is not None:
            decision = log_decision(
                session=session,
                customer_id=customer_id,
                channel=channel.value,
                kind=definition.kind.value,
                outcome="allowed",
                purpose_key=definition.purpose,
                topic=definition.topics[0] if definition.topics else None,
                decided_at=now,
            )
            message.decision_id = decision.id
            message.dedupe_key = dedupe_key(campaign, round_.occurrence, customer_id)
        rows.append(message)
    session.add_all(rows)
    session.flush()
    _hand_over(session, campaign, definition, [m for m in rows if m.status == "scheduled"], people)
    return counts


def rendered(
    definition: CampaignDefinition, language: str, values: dict[str, str]
) -> tuple[str, str, str]:
    """(language used, subject, body) for a customer's personal fields."""
    found = content_for(definition, language)
    if found is None:
        raise InvalidInput(FieldError("content", f"no text in {language}"))
    used, content = found
    return used, fill(content.subject, values), fill(content.body, values)


def _hand_over(
    session: Session,
    campaign: Campaign,
    definition: CampaignDefinition,
    messages: Iterable[CampaignMessage],
    people: dict[int, tuple[str, str, list[str]]],
) -> None:
    """Scheduled messages become the outbox's to send (see :mod:`tillit.campaigns.delivery`)."""
    delivery.enqueue_messages(session, campaign, definition, list(messages), people)


# -- what happened --------------------------------------------------------------------------------


FUNNEL_STEPS = (
    "audience",
    "allowed",
    "relevant",
    "scheduled",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "goal_reached",
)
OPENED_EVENT, CLICKED_EVENT = "Message Opened", "Message Clicked"


@dataclass
class Funnel:
    steps: dict[str, int]
    held: dict[str, int]
    rounds: int


def funnel(*, session: Session, campaign: Campaign) -> Funnel:
    return funnels(session=session, campaigns=[campaign])[0]


def funnels(*, session: Session, campaigns: Sequence[Campaign]) -> list[Funnel]:
    """Each campaign's funnel; the opens and clicks of all of them read in one pass."""
    tracked = _tracked_people(session, [c.key for c in campaigns])
    return [_funnel(session, campaign, tracked) for campaign in campaigns]


def _funnel(session: Session, campaign: Campaign, tracked: dict[tuple[str, str], int]) -> Funnel:
    steps = dict.fromkeys(FUNNEL_STEPS, 0)
    held: Counter[str] = Counter()
    rounds = session.scalars(
        select(CampaignRound).where(CampaignRound.campaign_id == campaign.id)
    ).all()
    for round_ in rounds:
        steps["audience"] += round_.audience
        steps["allowed"] += round_.allowed
        steps["relevant"] += round_.relevant
        steps["scheduled"] += round_.scheduled
        held.update(round_.held or {})
    states = delivery.states(session, source_of(campaign.key))
    # Handed to the provider: accepted (sent) or refused for good (bounced). Delivered: accepted;
    # without delivery receipts that is the most the outbox knows.
    steps["sent"] = states.get("sent", 0) + states.get("bounced", 0)
    steps["delivered"] = states.get("sent", 0)
    steps["opened"] = tracked.get((OPENED_EVENT, campaign.key), 0)
    steps["clicked"] = tracked.get((CLICKED_EVENT, campaign.key), 0)
    steps["goal_reached"] = len(_goal_reached(session, campaign))
    return Funnel(steps=steps, held=dict(held), rounds=len(rounds))


def _scheduled_since(session: Session, campaign: Campaign) -> dict[int, datetime]:
    rows = session.execute(
        select(CampaignMessage.customer_id, func.min(CampaignMessage.not_before))
        .where(CampaignMessage.campaign_id == campaign.id, CampaignMessage.status == "scheduled")
        .group_by(CampaignMessage.customer_id)
    )
    return {customer_id: at for customer_id, at in rows if at is not None}


def _tracked_people(session: Session, keys: Sequence[str]) -> dict[tuple[str, str], int]:
    """(event name, campaign key) -> customers with a tracked open or click whose ``campaign``
    property is that campaign (an e-mail's tracking pixel or link); counted by the database in
    one pass over the events, whatever the number of campaigns."""
    if not keys:
        return {}
    tagged = Event.payload["properties"]["campaign"].as_string()
    rows = session.execute(
        select(Event.name, tagged, func.count(distinct(Event.customer_id)))
        .where(
            Event.name.in_([OPENED_EVENT, CLICKED_EVENT]),
            Event.customer_id.is_not(None),
            tagged.in_(list(keys)),
        )
        .group_by(Event.name, tagged)
    )
    return {(name, key): int(count) for name, key, count in rows}


def _goal_reached(
    session: Session, campaign: Campaign, since: dict[int, datetime] | None = None
) -> set[int]:
    """Customers who reached the campaign's goal within its window after their message (or,
    with ``since``, after those instants: every planned member, sent or not)."""
    definition = definition_of(campaign)
    if definition.goal is None:
        return set()
    goal = session.scalar(select(Goal).where(Goal.key == definition.goal))
    if goal is None or not goal.event:
        return set()
    since = since if since is not None else _scheduled_since(session, campaign)
    if not since:
        return set()
    window = timedelta(days=goal.window_days)
    first = min(since.values())
    reached = set()
    rows = session.execute(
        select(Event.customer_id, Event.timestamp, Event.payload).where(
            Event.name == goal.event,
            Event.customer_id.in_(list(since)),
            Event.timestamp >= first,
        )
    )
    for customer_id, timestamp, payload in rows:
        start = since[customer_id]
        properties = (payload or {}).get("properties") or {}
        matches = all(str(properties.get(k)) == v for k, v in (goal.filters or {}).items())
        if matches and start <= timestamp <= start + window:
            reached.add(customer_id)
    return reached


@dataclass(frozen=True)
class Results:
    """Relevant against blast, per member the policy allowed (intent to treat): the relevant
    group includes those the gate held back."""

    groups: dict[str, int]
    conversion: Comparison | None
    unsubscribes: Comparison | None
    verdict: str


def results(*, session: Session, campaign: Campaign) -> Results | None:
    definition = definition_of(campaign)
    if not definition.blast_share:
        return None
    members: dict[str, dict[int, datetime]] = {"relevant": {}, "blast": {}}
    policy_reasons = set(planning.REASONS) - set(planning.CAMPAIGN_REASONS)
    rows = session.execute(
        select(
            CampaignMessage.customer_id,
            CampaignMessage.group,
            CampaignMessage.reason,
            CampaignMessage.not_before,
        ).where(CampaignMessage.campaign_id == campaign.id)
    )
    for customer_id, group, reason, not_before in rows:
        if group in members and reason not in policy_reasons and not_before is not None:
            members[group].setdefault(customer_id, not_before)
    everyone = {**members["relevant"], **members["blast"]}
    reached = _goal_reached(session, campaign, everyone)
    left = _unsubscribed(session, definition.purpose, everyone)
    sizes = {group: len(found) for group, found in members.items()}
    if min(sizes.values()) < 2:
        return Results(sizes, None, None, "Too few people in each group to compare yet.")

    def rate(found: set[int], group: str) -> Sample:
        return Sample.proportion(len(found & set(members[group])), sizes[group])

    conversion = compare_proportions(
        rate(reached, "blast"),
        rate(reached, "relevant"),
        metric="goal conversion",
        names=("blast", "relevant"),
    )
    unsubscribes = compare_proportions(
        rate(left, "blast"),
        rate(left, "relevant"),
        metric="unsubscribes",
        names=("blast", "relevant"),
    )
    return Results(sizes, conversion, unsubscribes, verdict(conversion, unsubscribes))


def verdict(conversion: Comparison, unsubscribes: Comparison) -> str:
    better = conversion.significant and conversion.difference > 0
    worse = conversion.significant and conversion.difference < 0
    fewer_left = unsubscribes.significant and unsubscribes.difference < 0
    more_left = unsubscribes.significant and unsubscribes.difference > 0
    if (better and not more_left) or (fewer_left and not worse):
        return "Relevance paid off: choosing by relevance did better than the blast."
    if worse or more_left:
        return "Relevance did not pay off: the blast did better."
    return "No clear difference yet between choosing by relevance and the blast."


def _unsubscribed(session: Session, purpose: str, since: dict[int, datetime]) -> set[int]:
    if not since:
        return set()
    first = min(since.values())
    rows = session.execute(
        select(ConsentRecord.customer_id, ConsentRecord.recorded_at).where(
            ConsentRecord.purpose_key == purpose,
            ConsentRecord.customer_id.in_(list(since)),
            ConsentRecord.decision.in_([ConsentDecision.withdrawn, ConsentDecision.objected]),
            ConsentRecord.recorded_at >= first,
        )
    )
    return {customer_id for customer_id, at in rows if at >= since[customer_id]}


# -- for the customer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerMessage:
    campaign: Campaign
    definition: CampaignDefinition
    message: CampaignMessage
    sent: bool


def messages_for(
    *, session: Session, customer_id: int, days: int = 90, now: datetime | None = None
) -> list[CustomerMessage]:
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(CampaignMessage, Campaign, DecisionRecord.sent)
        .join(Campaign, Campaign.id == CampaignMessage.campaign_id)
        .outerjoin(DecisionRecord, DecisionRecord.id == CampaignMessage.decision_id)
        .where(CampaignMessage.customer_id == customer_id, CampaignMessage.planned_at >= since)
        .order_by(CampaignMessage.planned_at.desc(), CampaignMessage.id.desc())
    ).all()
    return [
        CustomerMessage(
            campaign=campaign,
            definition=definition_of(campaign),
            message=message,
            sent=bool(sent),
        )
        for message, campaign, sent in rows
    ]


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
