"""The jobs process's experiments round: every running experiment is analysed on the analytics
layer, and stopped by itself when one of the customer's guardrails shows harm or the split is
broken (``auto_stop``, on by default), or when its primary result is decided
(``stop_on_decision``, off by default). The stop is the ordinary, audited one, by the actor
``experiment guardrail``, with the reason in words.

The always-valid confidence sequences are what make this safe: the round looks at every
experiment every interval, and the chance of a false stop stays at most α over all the looks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.experiments.models import Experiment, ExperimentStatus
from tillit.experiments.results import GUARD_LABEL, Keep, analyse, stop_reason
from tillit.experiments.service import stop_experiment
from tillit.storage.session import SessionFactory

GUARD = Actor.system(GUARD_LABEL)
log = logging.getLogger(__name__)


@dataclass
class GuardReport:
    checked: list[str] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)  # key -> reason
    failed: dict[str, str] = field(default_factory=dict)


def guard_experiments(*, sessions: SessionFactory, keep: Keep, now: datetime) -> GuardReport:
    """``keep``: as ``analyse`` takes it; the jobs process keeps the counts under the data's
    mark, so the results pages read what this round counted."""
    report = GuardReport()
    with sessions() as session:
        keys = list(
            session.scalars(
                select(Experiment.key)
                .where(Experiment.status == ExperimentStatus.running)
                .where(Experiment.auto_stop | Experiment.stop_on_decision)
                .order_by(Experiment.id)
            )
        )
    if not keys:
        return report
    for key in keys:
        try:
            with sessions() as session, session.begin():
                experiment = session.scalar(select(Experiment).where(Experiment.key == key))
                if experiment is None or experiment.status != ExperimentStatus.running:
                    continue
                results = analyse(session=session, experiment=experiment, now=now, keep=keep)
                report.checked.append(key)
                reason = stop_reason(
                    results,
                    on_harm=experiment.auto_stop,
                    on_decision=experiment.stop_on_decision,
                )
                if reason is None:
                    continue
                words = f"Stopped by itself: {reason}."[:500]
                stop_experiment(session=session, key=key, reason=words, actor=GUARD)
                report.stopped[key] = words
                log.warning("experiment %s stopped: %s", key, words)
        except Exception as error:  # one experiment's failure does not stop the others
            log.exception("experiment %s was not checked", key)
            report.failed[key] = f"{type(error).__name__}: {error}"
    return report
