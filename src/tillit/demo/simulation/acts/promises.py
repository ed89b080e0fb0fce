"""Broken promises, injected where the truth file records them: a complaint answered late (its
first reply and its resolution; the case assigned to a team), a marketing message inside a
customer's quiet hours, a campaign's message days after a withdrawal, and a data request
answered late. Everything else the simulation does goes through the contact policy and keeps
the company's promises, so a measurement should find exactly these, and where they broke
(``tests/promises/test_simulated_breaches.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tillit.campaigns.models import Campaign, CampaignMessage, CampaignRound, CampaignStatus
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.contact.log import log_decision, record_send
from tillit.demo.simulation.acts.campaigns import campaign_definition
from tillit.demo.simulation.world import ACTOR, World
from tillit.dialogues.models import Case, CaseStatus
from tillit.privacy.models import DataRequest, DataRequestKind

# The campaign whose message reaches a customer after they withdrew (its own, one message),
# and the team the late complaint was assigned to.
CAMPAIGN = ("last-minute-offers", "Last-minute offers")
TEAM = "Customer care"


def act(world: World, progress: Callable[[int, int], None]) -> None:
    rng = world.rng("promises")
    people = [(p, ids) for p, ids in world.everyone_with_profiles() if p.kind == "store"]
    if len(people) < 4:
        return
    chosen = rng.sample(people, 4)
    day = max(1.0, world.clock.days * 0.2)  # early: every deadline passes within the run
    with world.sessions() as session, session.begin():
        steps = (_late_case, _quiet_hours_send, _send_after_withdrawal, _late_request)
        for number, (step, (person, ids)) in enumerate(zip(steps, chosen, strict=True)):
            for key, kind, evidence, where in step(world, session, ids[0], day + number):
                world.broken_promises.setdefault(person.index, []).append(
                    {"promise": key, "evidence_kind": kind, "evidence_id": evidence, **where}
                )
                world.counts["promises broken (injected)"] += 1
            progress(number + 1, len(steps))


Breach = tuple[str, str, int, dict[str, str]]  # promise, evidence kind and id, where it broke


def _late_case(world: World, session: Session, customer_id: int, day: float) -> list[Breach]:
    settings = world.settings
    opened = world.clock.at(day, 10)
    case = Case(
        customer_id=customer_id,
        rule="word:complaint",
        priority="normal",
        status=CaseStatus.resolved,
        assignee=TEAM,
        first_response_due=opened + timedelta(hours=settings.case_first_response_hours),
        resolution_due=opened + timedelta(hours=settings.case_resolution_hours),
        first_response_at=opened + timedelta(hours=settings.case_first_response_hours + 6),
        resolved_at=opened + timedelta(hours=settings.case_resolution_hours + 30),
        created_at=opened,
    )
    session.add(case)
    session.flush()
    where = {"team": TEAM}
    return [
        ("complaint-first-reply", "case", case.id, where),
        ("complaint-resolved", "case", case.id, where),
    ]


def _zone(session: Session, customer_id: int) -> ZoneInfo:
    from tillit.customers.models import Customer

    row = session.get(Customer, customer_id)
    return ZoneInfo(row.time_zone if row else "UTC")


def _at_local(
    world: World, session: Session, customer_id: int, day: float, clock: time
) -> datetime:
    zone = _zone(session, customer_id)
    date = world.clock.at(day, 12).astimezone(zone).date()
    return datetime.combine(date, clock, zone).astimezone(world.clock.end.tzinfo)


def _marketing(
    session: Session, customer_id: int, at: datetime, *, campaign: int | None = None
) -> int:
    """A marketing e-mail sent; with ``campaign`` (a round), one that campaign planned."""
    logged = log_decision(
        session=session,
        customer_id=customer_id,
        channel="email",
        kind="marketing",
        outcome="allowed",
        reasons=[],
        purpose_key="marketing",
        topic="offers",
        defer_until=None,
        decided_at=at,
    )
    if campaign is not None:
        planned = session.get(CampaignRound, campaign)
        assert planned is not None
        session.add(
            CampaignMessage(
                campaign_id=planned.campaign_id,
                round_id=planned.id,
                customer_id=customer_id,
                group="relevant",
                status="scheduled",
                channel="email",
                not_before=at,
                score=1.0,
                decision_id=logged.id,
                dedupe_key=f"campaign:{CAMPAIGN[0]}:{planned.occurrence}:{customer_id}",
                planned_at=at,
            )
        )
    return record_send(
        session=session,
        customer_id=customer_id,
        channel="email",
        kind="marketing",
        topic="offers",
        decision_id=logged.id,
        sent_at=at,
    ).id


def _campaign_round(session: Session, at: datetime) -> int:
    """The injected campaign (done) and its one round, of one message."""
    key, name = CAMPAIGN
    definition = campaign_definition(key, name, "offers", "outdoor", 0.0, 0.0)
    campaign = Campaign(
        key=key,
        name=name,
        definition=definition.model_dump(mode="json"),
        status=CampaignStatus.done,
        created_by=ACTOR.label,
        created_at=at,
        updated_at=at,
        approved_by=ACTOR.label,
        approved_at=at,
    )
    session.add(campaign)
    session.flush()
    planned = CampaignRound(
        campaign_id=campaign.id,
        occurrence=at.date().isoformat(),
        planned_at=at,
        audience=1,
        allowed=1,
        relevant=1,
        scheduled=1,
    )
    session.add(planned)
    session.flush()
    return planned.id


def _quiet_hours_send(world: World, session: Session, customer_id: int, day: float) -> list[Breach]:
    before = world.clock.at(day - 1, 8)
    record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key="marketing",
        decision=ConsentDecision.granted,
        method=Method.preference_centre,
        actor=ACTOR,
        at=before,
    )
    update_preferences(
        session=session,
        customer_id=customer_id,
        changes={"quiet_hours": {"start": "22:00", "end": "07:00"}, "time_zone": None},
        method=Method.preference_centre,
        actor=ACTOR,
        now=before,
    )
    send = _marketing(
        session, customer_id, _at_local(world, session, customer_id, day, time(23, 30))
    )
    return [("quiet-hours", "send", send, {})]


def _send_after_withdrawal(
    world: World, session: Session, customer_id: int, day: float
) -> list[Breach]:
    update_preferences(
        session=session,
        customer_id=customer_id,
        changes={"quiet_hours": None},
        method=Method.preference_centre,
        actor=ACTOR,
        now=world.clock.at(day - 2, 8),
    )
    record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key="marketing",
        decision=ConsentDecision.withdrawn,
        method=Method.unsubscribe,
        actor=ACTOR,
        at=world.clock.at(day, 9),
    )
    at = _at_local(world, session, customer_id, day + 3, time(12))
    late = _marketing(session, customer_id, at, campaign=_campaign_round(session, at))
    return [("marketing-stops", "send", late, {"campaign": CAMPAIGN[0]})]


def _late_request(world: World, session: Session, customer_id: int, day: float) -> list[Breach]:
    received = world.clock.at(day, 11)
    request = DataRequest(
        customer_id=customer_id,
        kind=DataRequestKind.access,
        status="done",
        channel="email",
        received_at=received,
        due_on=(received + timedelta(days=30)).date(),
        completed_at=received + timedelta(days=34),
    )
    session.add(request)
    session.flush()
    return [("data-requests", "request", request.id, {})]
