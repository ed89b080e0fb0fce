"""Who is served which variant, and the exposures that record it.

The variant is a salted hash of the experiment and the person, so it is the same on every call,
in every process, with nothing stored; the exposure is stored the first time a variant is served
(``assign`` for the API and campaigns, ``record_viewed`` for a tracker's ``Experiment Viewed``).

The unit is the person: a profile merged into another (identity resolution) is the same person
as the profile it went into. After a merge the person keeps the variant of their earliest
exposure, whichever profile it was logged on; a person whose profiles were served different
variants before they were merged is left out of the analysis and counted (``analysis_units``).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from tillit.analytics.models import Segment, SegmentMember
from tillit.analytics.segment_store import is_member
from tillit.customers.models import Customer
from tillit.errors import Conflict, NotFound
from tillit.experiments.models import Experiment, ExperimentStatus, Exposure, OutsideAudience
from tillit.experiments.service import get_experiment
from tillit.experiments.statistics import SampleRatio, sample_ratio_mismatch
from tillit.identity.models import Merge
from tillit.storage.base import utcnow
from tillit.storage.upsert import upsert

EXPOSURES: Table = Exposure.__table__  # type: ignore[assignment]
OUTSIDE: Table = OutsideAudience.__table__  # type: ignore[assignment]
VIA = ("api", "track", "campaign")


def bucket(salt: str, key: str, customer_id: int) -> float:
    """A point in [0, 1) from SHA-256 of salt, experiment key and person: uniform, and
    independent between experiments (each has its own key and salt)."""
    digest = hashlib.sha256(f"{salt}:{key}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hashed_variant(experiment: Experiment, customer_id: int) -> str:
    """The variant whose share of [0, 1) (weight / total weight, in the definition's order)
    holds the person's point."""
    weights = experiment.weights
    point = bucket(experiment.salt, experiment.key, customer_id) * sum(weights.values())
    running = 0.0
    for key, weight in weights.items():
        running += weight
        if point < running:
            return key
    return experiment.variant_keys[-1]  # only reached by rounding at the very top


# ---- the person behind a profile ---------------------------------------------------------


def person_of(session: Session, customer_id: int) -> int:
    """The profile this one was merged into, transitively (merges not undone): the person."""
    current, seen = customer_id, {customer_id}
    while True:
        into = session.scalar(
            select(Merge.into_customer_id)
            .where(Merge.from_customer_id == current, Merge.undone_at.is_(None))
            .order_by(Merge.id.desc())
            .limit(1)
        )
        if into is None or into in seen:
            return current
        seen.add(into)
        current = into


def profiles_of(session: Session, person: int) -> set[int]:
    """The person's own profile and every profile merged into it (not undone), transitively."""
    found, frontier = {person}, {person}
    while frontier:
        merged = set(
            session.scalars(
                select(Merge.from_customer_id).where(
                    Merge.into_customer_id.in_(frontier), Merge.undone_at.is_(None)
                )
            )
        )
        frontier = merged - found
        found |= frontier
    return found


class Survivors:
    """Every merge not undone, loaded once: the person of many profiles without a query each
    (campaigns and the analysis)."""

    def __init__(self, session: Session) -> None:
        self.into: dict[int, int] = dict(
            session.execute(
                select(Merge.from_customer_id, Merge.into_customer_id)
                .where(Merge.undone_at.is_(None))
                .order_by(Merge.id)
            ).all()
        )

    def person(self, customer_id: int) -> int:
        path, current = [], customer_id
        while current in self.into and current not in path:
            path.append(current)
            current = self.into[current]
        for step in path:  # shortcut the walk for the next look-up
            self.into[step] = current
        return current


# ---- serving and logging -----------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    experiment: str
    customer_id: int  # the person: the profile the given one was merged into, if it was
    variant: str | None  # None: outside the audience segment, not assigned (serve the default)
    exposed_at: datetime | None  # the person's first exposure in this experiment
    first: bool  # whether this call logged the person's first exposure

    @property
    def in_audience(self) -> bool:
        return self.variant is not None


# ---- the audience ------------------------------------------------------------------------


def in_audience(session: Session, experiment: Experiment, person: int) -> bool:
    """Whether the person may be assigned: no segment, or a member of it now (membership as
    the segments round last computed it). Only a first assignment is checked: a person already
    exposed keeps their variant after leaving the segment (sticky)."""
    return experiment.segment is None or is_member(session, experiment.segment, person)


def _left_out(session: Session, experiment: Experiment, persons: Iterable[int]) -> None:
    """Counts the persons as outside the audience, once each per experiment."""
    rows = [
        {"experiment_id": experiment.id, "customer_id": person, "first_at": utcnow()}
        for person in persons
    ]
    for start in range(0, len(rows), 1000):
        session.execute(
            upsert(session, OUTSIDE)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=["experiment_id", "customer_id"])
        )


def outside_audience(session: Session, experiment: Experiment) -> int:
    """How many people were asked for but not assigned, being outside the segment."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutsideAudience)
            .where(OutsideAudience.experiment_id == experiment.id)
        )
        or 0
    )


def _running(session: Session, key: str) -> Experiment:
    experiment = get_experiment(session=session, key=key)
    if experiment.status != ExperimentStatus.running:
        raise Conflict(
            f"experiment {key!r} is {experiment.status}: variants are served only while it runs"
        )
    return experiment


def _log(
    session: Session, experiment: Experiment, person: int, variant: str, via: str, at: datetime
) -> None:
    # ON CONFLICT DO NOTHING: a repeated call, or two at once, log one row.
    session.execute(
        upsert(session, EXPOSURES)
        .values(
            experiment_id=experiment.id,
            customer_id=person,
            variant=variant,
            via=via,
            exposed_at=at,
        )
        .on_conflict_do_nothing(index_elements=["experiment_id", "customer_id", "variant"])
    )


def _earliest(
    session: Session, experiment: Experiment, profiles: set[int]
) -> tuple[str, datetime] | None:
    row = session.execute(
        select(Exposure.variant, Exposure.exposed_at)
        .where(Exposure.experiment_id == experiment.id, Exposure.customer_id.in_(profiles))
        .order_by(Exposure.exposed_at, Exposure.id)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def assign(
    *, session: Session, key: str, customer_id: int, via: str = "api", at: datetime | None = None
) -> Assignment:
    """The person's variant, logging the exposure: the earliest variant they were served, or
    the hashed one if none. Idempotent: calling again returns the same and logs nothing new.
    Runs in the caller's transaction (the caller commits)."""
    if via not in VIA:
        raise ValueError(f"via must be one of {VIA}")
    experiment = _running(session, key)
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} does not exist")
    person = person_of(session, customer_id)
    earliest = _earliest(session, experiment, profiles_of(session, person))
    now = at or utcnow()
    if earliest is None and not in_audience(session, experiment, person):
        _left_out(session, experiment, [person])
        return Assignment(key, person, None, None, first=False)
    variant = earliest[0] if earliest else hashed_variant(experiment, person)
    _log(session, experiment, person, variant, via, now)
    return Assignment(
        experiment=key,
        customer_id=person,
        variant=variant,
        exposed_at=earliest[1] if earliest else now,
        first=earliest is None,
    )


def assign_many(
    *, session: Session, key: str, customer_ids: Iterable[int], via: str = "campaign"
) -> dict[int, str]:
    """Variants for a campaign's audience at once (message variants, hold-outs), each logged as
    served: {customer id as given: variant}. The same rules as ``assign``, in a few queries;
    people outside the experiment's segment are left out of the answer (and counted)."""
    experiment = _running(session, key)
    survivors = Survivors(session)
    given = list(dict.fromkeys(customer_ids))
    persons = {customer_id: survivors.person(customer_id) for customer_id in given}
    known: dict[int, tuple[datetime, int, str]] = {}
    for profile, variant, at, row_id in session.execute(
        select(Exposure.customer_id, Exposure.variant, Exposure.exposed_at, Exposure.id).where(
            Exposure.experiment_id == experiment.id
        )
    ):
        person = survivors.person(profile)
        if person not in known or (at, row_id) < known[person][:2]:
            known[person] = (at, row_id, variant)
    now = utcnow()
    members: set[int] | None = None
    if experiment.segment is not None:
        members = set(
            session.scalars(
                select(SegmentMember.customer_id)
                .join(Segment, Segment.id == SegmentMember.segment_id)
                .where(Segment.key == experiment.segment)
            )
        )
    chosen: dict[int, str] = {}
    outside = []
    for person in set(persons.values()):
        if person in known:
            chosen[person] = known[person][2]
        elif members is not None and person not in members:
            outside.append(person)
        else:
            chosen[person] = hashed_variant(experiment, person)
    _left_out(session, experiment, sorted(outside))
    rows = [
        {
            "experiment_id": experiment.id,
            "customer_id": person,
            "variant": variant,
            "via": via,
            "exposed_at": now,
        }
        for person, variant in chosen.items()
    ]
    for start in range(0, len(rows), 1000):
        session.execute(
            upsert(session, EXPOSURES)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=["experiment_id", "customer_id", "variant"])
        )
    return {
        customer_id: chosen[person] for customer_id, person in persons.items() if person in chosen
    }


def record_viewed(
    *, session: Session, experiment: Experiment, customer_id: int, variant: str, at: datetime
) -> None:
    """A tracker says this profile was shown ``variant``: logged as it was served, even when it
    is not the person's assigned variant (the analysis then leaves the person out). A person
    outside the audience segment with no exposure yet is counted, not logged."""
    person = person_of(session, customer_id)
    if _earliest(session, experiment, profiles_of(session, person)) is None and not in_audience(
        session, experiment, person
    ):
        _left_out(session, experiment, [person])
        return
    _log(session, experiment, person, variant, "track", at)


# ---- what the analysis counts ------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    """The experiment's units as the analysis takes them."""

    variants: dict[int, str]  # person -> the one variant they were served
    first_exposed: dict[int, datetime]  # person -> their first exposure
    mixed: int  # persons served more than one variant: left out, and said so

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(self.variants.values()))


def analysis_units(*, session: Session, key: str) -> Units:
    experiment = get_experiment(session=session, key=key)
    survivors = Survivors(session)
    served: dict[int, set[str]] = defaultdict(set)
    first: dict[int, datetime] = {}
    for profile, variant, at in session.execute(
        select(Exposure.customer_id, Exposure.variant, Exposure.exposed_at).where(
            Exposure.experiment_id == experiment.id
        )
    ):
        person = survivors.person(profile)
        served[person].add(variant)
        if person not in first or at < first[person]:
            first[person] = at
    single = {person: next(iter(v)) for person, v in served.items() if len(v) == 1}
    return Units(
        variants=single,
        first_exposed={person: first[person] for person in single},
        mixed=len(served) - len(single),
    )


def split_check(*, session: Session, key: str) -> tuple[Units, SampleRatio]:
    """The units and whether their split matches the weights (sample-ratio mismatch)."""
    units = analysis_units(session=session, key=key)
    experiment = get_experiment(session=session, key=key)
    return units, sample_ratio_mismatch(units.counts, experiment.weights)
