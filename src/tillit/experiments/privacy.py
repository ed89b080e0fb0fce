"""Erasure and export hooks for experiments, listed in ``tillit.privacy.areas``.

Erasure deletes the person's exposures and the note that they were outside an audience: an
exposure names the person and nothing else, and an experiment's counts are read from the
exposures that remain (an erased person leaves the analysis, as they leave every other count
about people)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tillit.experiments.models import Experiment, Exposure, OutsideAudience

ERASED_TABLES = ("experiment_exposure", "experiment_outside_audience")


def erase_exposures(session: Session, customer_id: int, needles: list[str]) -> int:
    touched = 0
    for model in (Exposure, OutsideAudience):
        result = session.execute(delete(model).where(model.customer_id == customer_id))
        touched += int(result.rowcount)  # type: ignore[attr-defined]
    return touched


def export_exposures(session: Session, customer_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Experiment.key, Exposure.variant, Exposure.via, Exposure.exposed_at)
        .join(Experiment, Experiment.id == Exposure.experiment_id)
        .where(Exposure.customer_id == customer_id)
        .order_by(Exposure.id)
    )
    found: list[dict[str, Any]] = [
        {"experiment": key, "variant": variant, "via": via, "exposed_at": at.isoformat()}
        for key, variant, via, at in rows
    ]
    outside = session.execute(
        select(Experiment.key, OutsideAudience.first_at)
        .join(Experiment, Experiment.id == OutsideAudience.experiment_id)
        .where(OutsideAudience.customer_id == customer_id)
        .order_by(Experiment.key)
    )
    found += [
        {"experiment": key, "variant": None, "outside_audience_since": at.isoformat()}
        for key, at in outside
    ]
    return found
