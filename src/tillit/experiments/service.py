"""Experiments' life: drafted (analysts), started and stopped (admins), each step audited in the
caller's transaction. Who may do what is the faces' check (staff permissions, API scopes)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillit.analytics.models import Segment
from tillit.audit.service import Actor, record
from tillit.errors import Conflict, FieldError, InvalidInput, NotFound
from tillit.experiments.definitions import ExperimentDefinition, check_definition
from tillit.experiments.models import Experiment, ExperimentStatus
from tillit.storage.base import utcnow

ENTITY = "experiment"


def snapshot(experiment: Experiment) -> dict[str, Any]:
    """The experiment as the API shows it and the audit log keeps it."""
    return {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "unit": experiment.unit,
        "variants": experiment.variants,
        "control": experiment.control,
        "segment": experiment.segment,
        "primary_goal": experiment.primary_goal,
        "secondary_goals": experiment.secondary_goals,
        "guardrails": experiment.guardrails,
        "auto_stop": experiment.auto_stop,
        "stop_on_decision": experiment.stop_on_decision,
        "status": str(experiment.status),
        "created_by": experiment.created_by,
        "created_at": experiment.created_at.isoformat() if experiment.created_at else None,
        "started_at": experiment.started_at.isoformat() if experiment.started_at else None,
        "started_by": experiment.started_by,
        "stopped_at": experiment.stopped_at.isoformat() if experiment.stopped_at else None,
        "stopped_by": experiment.stopped_by,
        "stop_reason": experiment.stop_reason,
    }


def create_experiment(
    *, session: Session, definition: ExperimentDefinition, actor: Actor
) -> Experiment:
    """A draft; a taken key is a Conflict and writes nothing."""
    check_definition(definition)
    if session.scalar(select(Experiment.id).where(Experiment.key == definition.key)):
        raise Conflict(f"an experiment with the key {definition.key!r} already exists")
    experiment = Experiment(
        key=definition.key,
        name=definition.name or definition.key,
        hypothesis=definition.hypothesis,
        unit=definition.unit,
        variants=[variant.model_dump() for variant in definition.variants],
        control=definition.control,
        segment=definition.segment,
        primary_goal=definition.primary_goal,
        secondary_goals=list(definition.secondary_goals),
        guardrails=list(definition.guardrails),
        auto_stop=definition.auto_stop,
        stop_on_decision=definition.stop_on_decision,
        salt=definition.salt or secrets.token_hex(8),
        status=ExperimentStatus.draft,
        created_by=actor.label,
    )
    try:
        with session.begin_nested():
            session.add(experiment)
            session.flush()
    except IntegrityError as error:  # the same key, created by someone else just now
        raise Conflict(f"an experiment with the key {definition.key!r} already exists") from error
    record(
        session=session,
        actor=actor,
        action="experiment.create",
        entity_type=ENTITY,
        entity_id=experiment.key,
        after=snapshot(experiment),
    )
    return experiment


def get_experiment(*, session: Session, key: str) -> Experiment:
    experiment = session.scalar(select(Experiment).where(Experiment.key == key))
    if experiment is None:
        raise NotFound(f"no experiment has the key {key!r}")
    return experiment


def list_experiments(
    *, session: Session, status: ExperimentStatus | None = None
) -> list[Experiment]:
    query = select(Experiment).order_by(Experiment.created_at.desc(), Experiment.id.desc())
    if status is not None:
        query = query.where(Experiment.status == status)
    return list(session.scalars(query))


def start_experiment(*, session: Session, key: str, actor: Actor) -> Experiment:
    """From draft to running: variants are served from now on. Only a draft starts (a stopped
    experiment is not resumed: its exposures would mix two periods)."""
    experiment = get_experiment(session=session, key=key)
    if experiment.status != ExperimentStatus.draft:
        raise Conflict(f"experiment {key!r} is {experiment.status}; only a draft can be started")
    if experiment.segment is not None and (
        session.scalar(select(Segment.id).where(Segment.key == experiment.segment)) is None
    ):
        raise InvalidInput(
            FieldError("segment", f"no segment has the key {experiment.segment!r}; define it first")
        )
    before = snapshot(experiment)
    experiment.status = ExperimentStatus.running
    experiment.started_at = utcnow()
    experiment.started_by = actor.label
    session.flush()
    record(
        session=session,
        actor=actor,
        action="experiment.start",
        entity_type=ENTITY,
        entity_id=key,
        before=before,
        after=snapshot(experiment),
    )
    return experiment


def stop_experiment(*, session: Session, key: str, reason: str, actor: Actor) -> Experiment:
    """From running to stopped, with the reason staff (or a guardrail) gave."""
    reason = reason.strip()
    if not reason or len(reason) > 500 or "\x00" in reason:
        raise InvalidInput(FieldError("reason", "say why in 1 to 500 characters (no NUL)"))
    experiment = get_experiment(session=session, key=key)
    if experiment.status != ExperimentStatus.running:
        raise Conflict(f"experiment {key!r} is {experiment.status}; only a running one stops")
    before = snapshot(experiment)
    experiment.status = ExperimentStatus.stopped
    experiment.stopped_at = utcnow()
    experiment.stopped_by = actor.label
    experiment.stop_reason = reason
    session.flush()
    record(
        session=session,
        actor=actor,
        action="experiment.stop",
        entity_type=ENTITY,
        entity_id=key,
        before=before,
        after=snapshot(experiment),
    )
    return experiment
