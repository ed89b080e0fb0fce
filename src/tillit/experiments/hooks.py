"""Experiments' part when events are stored: a tracker's ``Experiment Viewed`` (Segment's
A/B-testing spec) logs an exposure, in the same transaction as the event.

The properties name the experiment (``experiment_id``, else ``experiment_name``: its key) and
the variant (``variation_id``, else ``variation_name``: a variant key). An event without a
variant logs the person's assigned one. Events that cannot be exposures are skipped, never
refused (the event itself is kept): no resolved profile, an unknown or not running experiment,
an unknown variant. ``skipped`` counts them for tests and logs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.events import hooks
from tillit.events.hooks import StoredEvent
from tillit.events.models import EventType
from tillit.experiments.assignment import assign, record_viewed
from tillit.experiments.models import Experiment, ExperimentStatus

EXPERIMENT_VIEWED = "Experiment Viewed"
log = logging.getLogger(__name__)


def _named(properties: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = properties.get(name)
        if isinstance(value, str) and value:
            return value
    return None


class ExperimentViewed:
    WANTED = frozenset({EXPERIMENT_VIEWED})

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()

    def wanted(self, session: Session) -> frozenset[str]:
        return self.WANTED

    def __call__(self, session: Session, events: list[StoredEvent]) -> None:
        viewed = [e for e in events if e.type == EventType.track and e.name == EXPERIMENT_VIEWED]
        if not viewed:
            return
        keys = {_named(e.properties, "experiment_id", "experiment_name") for e in viewed}
        running = {
            experiment.key: experiment
            for experiment in session.scalars(
                select(Experiment).where(
                    Experiment.key.in_([k for k in keys if k]),
                    Experiment.status == ExperimentStatus.running,
                )
            )
        }
        for event in viewed:
            key = _named(event.properties, "experiment_id", "experiment_name")
            variant = _named(event.properties, "variation_id", "variation_name")
            experiment = running.get(key or "")
            if event.customer_id is None:
                self._skip("no profile")
            elif experiment is None:
                self._skip("experiment unknown or not running")
            elif variant is None:
                assign(
                    session=session,
                    key=experiment.key,
                    customer_id=event.customer_id,
                    via="track",
                    at=event.timestamp,
                )
            elif variant not in experiment.variant_keys:
                self._skip("unknown variant")
            else:
                record_viewed(
                    session=session,
                    experiment=experiment,
                    customer_id=event.customer_id,
                    variant=variant,
                    at=event.timestamp,
                )

    def _skip(self, why: str) -> None:
        self.skipped[why] += 1
        log.info("Experiment Viewed not logged as an exposure: %s", why)


VIEWED = ExperimentViewed()
hooks.register(VIEWED)
