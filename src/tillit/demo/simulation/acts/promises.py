"""Broken promises, injected where the truth file records them: a complaint answered late (its
first reply and its resolution), a marketing message inside a customer's quiet hours, a
marketing message days after a withdrawal, and a data request answered late. Everything else
the simulation does goes through the contact policy and keeps the company's promises, so a
measurement should find exactly these (``tests/promises/test_simulated_breaches.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.contact.log import log_decision, record_send
from tillit.demo.simulation.world import ACTOR, World
from tillit.dialogues.models import Case, CaseStatus
from tillit.privacy.models import DataRequest, DataRequestKind


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
            for key, kind, evidence in step(world, session, ids[0], day + number):
                world.broken_promises.setdefault(person.index, []).append(
                    {"promise": key, "evidence_kind": kind, "evidence_id": evidence}
                )
                world.counts["promises broken (injected)"] += 1
            progress(number + 1, len(steps))


def _late_case(
    world: World, session: Session, customer_id: int, day: float
) -> list[tuple[str, str, int]]:
    settings = world.settings
    opened = world.clock.at(day, 10)
    case = Case(
        customer_id=customer_id,
        rule="word:complaint",
        priority="normal",
        status=CaseStatus.resolved,
        first_response_due=opened + timedelta(hours=settings.case_first_response_hours),
        resolution_due=opened + timedelta(hours=settings.case_resolution_hours),
        first_response_at=opened + timedelta(hours=settings.case_first_response_hours + 6),
        resolved_at=opened + timedelta(hours=settings.case_resolution_hours + 30),
        created_at=opened,
    )
    session.add(case)
    session.flush()
    return [("complaint-first-reply", "case", case.id), ("complaint-resolved", "case", case.id)]


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


def _marketing(session: Session, customer_id: int, at: datetime) -> int:
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
    return record_send(
        session=session,
        customer_id=customer_id,
        channel="email",
        kind="marketing",
        topic="offers",
        decision_id=logged.id,
        sent_at=at,
    ).id


def _quiet_hours_send(
    world: World, session: Session, customer_id: int, day: float
) -> list[tuple[str, str, int]]:
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
    return [("quiet-hours", "send", send)]


def _send_after_withdrawal(
    world: World, session: Session, customer_id: int, day: float
) -> list[tuple[str, str, int]]:
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
    late = _marketing(
        session, customer_id, _at_local(world, session, customer_id, day + 3, time(12))
    )
    return [("marketing-stops", "send", late)]


def _late_request(
    world: World, session: Session, customer_id: int, day: float
) -> list[tuple[str, str, int]]:
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
    return [("data-requests", "request", request.id)]
