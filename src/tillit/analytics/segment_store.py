"""Segments kept: versioned definitions, a size preview, and the membership materialised.

Each save of a definition is a new version. The membership is computed by one Ibis expression
(``tillit.analytics.segments``) on the analytics engine and stored in the database, so the
pages, the API and the dialogues read it without an engine. The jobs process refreshes it after
the lake round (:func:`refresh_segments`): a segment is recomputed only when what it was
computed from moved (the lake's watermark, the snapshots' fingerprints, the definitions, the
hour for rules with a window), and only the people who entered or left are written, each with a
row in the entered/left history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from tillit.analytics.goal_store import KEY, all_goals
from tillit.analytics.models import Segment, SegmentChange, SegmentMember, SegmentVersion
from tillit.analytics.segments import (
    Compiler,
    UnknownReference,
    granted,
    parse_rule,
    referenced_goals,
    referenced_segments,
)
from tillit.analytics.snapshots import FINGERPRINT_FILE, SNAPSHOTS, snapshot_dir
from tillit.analytics.tables import Model
from tillit.audit.service import Actor, record
from tillit.consent.models import Purpose
from tillit.customers.models import Customer, CustomerStatus
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.events.lake import STREAM
from tillit.events.models import LakeWatermark
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

ENTERED, LEFT = "entered", "left"


@dataclass(frozen=True)
class Preview:
    size: int  # members who consented to the purpose
    left_out: int  # matched the rules, but have not consented to the purpose


@dataclass
class RefreshReport:
    refreshed: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> entered, left
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # key -> why


# -- definitions ------------------------------------------------------------------------------


def validate_definition(session: Session, definition: Any, *, own_key: str | None = None) -> Any:
    """The rule tree, or InvalidInput naming each wrong place (``definition.rules.1...``)."""
    try:
        rule = parse_rule(definition)
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(".".join(["definition", *map(str, e["loc"])]), e["msg"])
                for e in error.errors()
            ]
        ) from None
    except ValueError as error:
        raise InvalidInput(FieldError("definition", str(error))) from None
    lookup = _definitions(session)
    if own_key is not None:
        lookup[own_key] = rule
    try:
        _check_references(rule, lookup, stack=(own_key,) if own_key else ())
    except UnknownReference as error:
        raise InvalidInput(FieldError("definition", str(error))) from None
    goals = {g.key for g in all_goals(session=session)}
    missing = referenced_goals(rule) - goals
    if missing:
        raise InvalidInput(FieldError("definition", f"no goal {sorted(missing)[0]!r}"))
    return rule


def _check_references(rule: Any, lookup: dict[str, Any], stack: tuple[str, ...]) -> None:
    for key in sorted(referenced_segments(rule)):
        if key in stack:
            raise UnknownReference(
                f"segments name each other in a circle: {' -> '.join((*stack, key))}"
            )
        if key not in lookup:
            raise UnknownReference(f"no segment {key!r}")
        _check_references(lookup[key], lookup, (*stack, key))


def save_segment(
    *,
    session: Session,
    key: str,
    name: str,
    purpose: str,
    definition: Any,
    actor: Actor,
) -> Segment:
    """Creates the segment, or saves its definition as a new version. Its membership follows
    at the next refresh (the jobs process, or ``tillit analytics segments refresh``)."""
    errors = []
    if not KEY.match(key):
        errors.append(FieldError("key", "lower-case letters, digits, - and _, at most 64"))
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "a segment needs a name of at most 200 characters"))
    if session.scalar(select(Purpose.key).where(Purpose.key == purpose)) is None:
        errors.append(FieldError("purpose", f"no consent purpose {purpose!r}"))
    if errors:
        raise InvalidInput(errors)
    rule = validate_definition(session, definition, own_key=key)
    document = rule.model_dump(mode="json", exclude_none=True)
    segment = session.scalar(select(Segment).where(Segment.key == key))
    before = None
    if segment is None:
        segment = Segment(key=key, name=name.strip(), purpose_key=purpose, current_version=1)
        session.add(segment)
        session.flush()
    else:
        before = {"name": segment.name, "purpose": segment.purpose_key}
        segment.current_version += 1
        segment.name, segment.purpose_key = name.strip(), purpose
        segment.inputs = None  # recomputed at the next refresh
    session.add(
        SegmentVersion(
            segment_id=segment.id,
            version=segment.current_version,
            definition=document,
            created_by=actor.label,
        )
    )
    session.flush()
    record(
        session=session,
        actor=actor,
        action="analytics.segment.save",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after={"key": key, "version": segment.current_version, "purpose": purpose},
    )
    return segment


def find_segment(session: Session, key: str) -> Segment | None:
    return session.scalar(select(Segment).where(Segment.key == key))


def get_segment(session: Session, key: str) -> Segment:
    segment = session.scalar(select(Segment).where(Segment.key == key))
    if segment is None:
        raise NotFound(f"no segment {key!r}")
    return segment


def definition_of(session: Session, segment: Segment) -> dict[str, Any]:
    version = session.scalar(
        select(SegmentVersion).where(
            SegmentVersion.segment_id == segment.id,
            SegmentVersion.version == segment.current_version,
        )
    )
    return dict(version.definition) if version else {}


def versions_of(session: Session, segment: Segment) -> list[SegmentVersion]:
    return list(
        session.scalars(
            select(SegmentVersion)
            .where(SegmentVersion.segment_id == segment.id)
            .order_by(SegmentVersion.version)
        )
    )


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.key)))


def _definitions(session: Session) -> dict[str, Any]:
    rows = session.execute(
        select(Segment.key, SegmentVersion.definition).join(
            SegmentVersion,
            (SegmentVersion.segment_id == Segment.id)
            & (SegmentVersion.version == Segment.current_version),
        )
    ).all()
    return {key: parse_rule(document) for key, document in rows}


# -- computing --------------------------------------------------------------------------------


def _compiler(session: Session, model: Model, now: datetime) -> Compiler:
    goals = {g.key: g for g in all_goals(session=session)}
    return Compiler(model, now=now, goals=goals, segments=_definitions(session).__getitem__)


def compute(
    session: Session, model: Model, rule: Any, purpose: str, now: datetime
) -> tuple[set[int], int]:
    """The members (people who match and consented to ``purpose``) and how many matched but
    were left out for lack of that consent: one Ibis expression each way."""
    matched = _compiler(session, model, now).members(rule)
    consented = granted(model, purpose).select(ok_person="person_id").distinct()
    flagged = matched.left_join(consented, matched.person_id == consented.ok_person)
    rows = flagged.select("person_id", ok=flagged.ok_person.notnull()).to_pyarrow().to_pylist()
    members = {int(r["person_id"]) for r in rows if r["ok"]}
    return members, len(rows) - len(members)


def preview(
    *, session: Session, model: Model, purpose: str, definition: Any, now: datetime | None = None
) -> Preview:
    """The size a definition would have now, before it is saved."""
    rule = validate_definition(session, definition)
    if session.scalar(select(Purpose.key).where(Purpose.key == purpose)) is None:
        raise InvalidInput(FieldError("purpose", f"no consent purpose {purpose!r}"))
    members, left_out = compute(session, model, rule, purpose, now or utcnow())
    return Preview(size=len(members), left_out=left_out)


def inputs_mark(session: Session, data_dir: Path, segment: Segment, now: datetime) -> str:
    """What a membership depends on, hashed: the lake's watermark, every snapshot's change
    fingerprint, the current version of every definition (a segment may name others) and of
    every goal, and the hour (windows such as "in 90 days" move with time)."""
    mark = session.get(LakeWatermark, STREAM)
    fingerprints = []
    for snapshot in SNAPSHOTS:
        path = snapshot_dir(data_dir, snapshot.name) / FINGERPRINT_FILE
        fingerprints.append(path.read_text() if path.exists() else "")
    versions = session.execute(select(Segment.key, Segment.current_version)).all()
    goals = [
        (g.key, g.kind, g.event, g.purpose, g.question, g.window_days, g.filters)
        for g in all_goals(session=session)
    ]
    parts = [
        mark.last_event_id if mark else 0,
        fingerprints,
        sorted(map(list, versions)),
        goals,
        segment.purpose_key,
        now.strftime("%Y-%m-%dT%H"),
    ]
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()


def refresh_segments(
    *,
    sessions: SessionFactory,
    data_dir: Path,
    model: Callable[[], Model],
    now: datetime | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
) -> RefreshReport:
    """Brings every segment's membership up to date, recomputing only those whose inputs
    moved; writes only who entered and who left. ``model`` is called once, at the first
    segment to recompute (so a round with nothing to do starts no engine)."""
    now = now or utcnow()
    report = RefreshReport()
    made: list[Model] = []
    with sessions() as session:
        keys = [s.key for s in all_segments(session) if only is None or s.key in only]
    for key in keys:
        with sessions() as session, session.begin():
            segment = get_segment(session, key)
            mark = inputs_mark(session, data_dir, segment, now)
            if not force and segment.inputs == mark:
                segment.refreshed_at = now
                report.unchanged.append(key)
                continue
            try:
                rule = parse_rule(definition_of(session, segment))
                if not made:
                    made.append(model())
                members, left_out = compute(session, made[0], rule, segment.purpose_key, now)
            except UnknownReference as error:  # a segment it names was changed meanwhile
                report.failed[key] = str(error)
                continue
            entered, left = _write_differences(session, segment, members, now)
            segment.size, segment.left_out = len(members), left_out
            segment.inputs, segment.refreshed_at = mark, now
            report.refreshed[key] = (entered, left)
    return report


def _write_differences(
    session: Session, segment: Segment, members: set[int], now: datetime
) -> tuple[int, int]:
    stored = set(
        session.scalars(
            select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment.id)
        )
    )
    # Only people still in the database: a profile erased or deleted since the snapshot was
    # written must not come back as a member.
    entering = sorted(members - stored)
    if entering:
        alive: set[int] = set()
        for chunk in _chunks(entering, 5_000):
            alive.update(
                session.scalars(
                    select(Customer.id).where(
                        Customer.id.in_(chunk), Customer.status != CustomerStatus.erased
                    )
                )
            )
        entering = [c for c in entering if c in alive]
    leaving = sorted(stored - members)
    for chunk in _chunks(leaving, 5_000):
        session.execute(
            delete(SegmentMember).where(
                SegmentMember.segment_id == segment.id, SegmentMember.customer_id.in_(chunk)
            )
        )
    # Core inserts (one executemany per table), not ORM objects: an object per row cost about
    # a millisecond each to build and flush, so a refresh after a busy day (tens of thousands
    # entering) spent most of its time here rather than computing.
    connection = session.connection()
    if entering:
        connection.execute(
            insert(SegmentMember),
            [{"segment_id": segment.id, "customer_id": c, "entered_at": now} for c in entering],
        )
    changes = [(c, ENTERED) for c in entering] + [(c, LEFT) for c in leaving]
    if changes:
        version = segment.current_version
        connection.execute(
            insert(SegmentChange),
            [
                {
                    "segment_id": segment.id,
                    "customer_id": c,
                    "change": change,
                    "version": version,
                    "at": now,
                }
                for c, change in changes
            ],
        )
    session.flush()
    return len(entering), len(leaving)


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- reading the membership -------------------------------------------------------------------


def is_member(session: Session, key: str, customer_id: int) -> bool:
    return (
        session.scalar(
            select(SegmentMember.customer_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(Segment.key == key, SegmentMember.customer_id == customer_id)
        )
        is not None
    )


def members_page(
    session: Session, segment: Segment, *, after: int = 0, limit: int = 100
) -> list[SegmentMember]:
    """Members by customer id, a page after ``after`` (keyset pagination: stable while the
    membership changes)."""
    return list(
        session.scalars(
            select(SegmentMember)
            .where(SegmentMember.segment_id == segment.id, SegmentMember.customer_id > after)
            .order_by(SegmentMember.customer_id)
            .limit(limit)
        )
    )


def history(session: Session, segment: Segment, *, limit: int = 100) -> list[SegmentChange]:
    return list(
        session.scalars(
            select(SegmentChange)
            .where(SegmentChange.segment_id == segment.id)
            .order_by(SegmentChange.id.desc())
            .limit(limit)
        )
    )


def member_count(session: Session, segment: Segment) -> int:
    return int(
        session.scalar(select(func.count()).where(SegmentMember.segment_id == segment.id)) or 0
    )


def segment_people(session: Session) -> dict[str, list[int]]:
    """Every segment's members (the people, by surviving profile id), for breakdowns."""
    found: dict[str, list[int]] = {s.key: [] for s in all_segments(session)}
    rows = session.execute(
        select(Segment.key, SegmentMember.customer_id).join(
            SegmentMember, SegmentMember.segment_id == Segment.id
        )
    )
    for key, customer_id in rows:
        found[key].append(int(customer_id))
    return found
