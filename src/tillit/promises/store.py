"""The promise catalogue in the database, and the measurement round that keeps its figures.

Seeding: the first time the catalogue is read (the jobs round, the API, the pages, the CLI) an
empty catalogue gets :func:`tillit.promises.catalogue.default_catalogue`. The message-cap
promise there has no caps of its own, so ``TILLIT_COMPANY_CAPS`` stays its setting until staff
give it some.

Measurement is incremental: a promise is evaluated again only when what it reads moved (the
change fingerprints of its snapshots), when it was edited, or on a new day (windows move with
time); its daily and weekly counts and its broken instances are then replaced, keeping the case
a customer opened about a breach.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tillit.analytics.models import Segment, SegmentMember
from tillit.analytics.snapshots import FINGERPRINT_FILE, snapshot_dir
from tillit.analytics.tables import Model
from tillit.audit.service import Actor, record
from tillit.config import Settings
from tillit.errors import Conflict, FieldError, InvalidInput, NotFound
from tillit.promises import catalogue
from tillit.promises import measure as evaluate
from tillit.promises.models import Promise, PromiseBreach, PromiseDay, PromiseWeek
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

READS: dict[str, tuple[str, ...]] = {
    catalogue.FIRST_REPLY: ("cases", "person_map"),
    catalogue.RESOLUTION: ("cases", "person_map"),
    catalogue.MESSAGE_CAP: ("sends", "person_map"),
    catalogue.QUIET_HOURS: ("sends", "preferences", "customers", "person_map"),
    catalogue.WITHDRAWAL_STOP: ("consents", "sends", "contact_decisions", "person_map"),
    catalogue.DATA_REQUEST: ("data_requests", "person_map"),
    catalogue.QUESTION_SPACING: ("sends", "person_map"),
    catalogue.DETRACTOR_FOLLOWUP: ("answers", "cases", "person_map"),
}
KEY_PATTERN = "abcdefghijklmnopqrstuvwxyz0123456789-"


# -- the catalogue ---------------------------------------------------------------------------


def ensure_catalogue(*, session: Session, settings: Settings) -> int:
    """Seeds the default promises into an empty catalogue; returns how many were added."""
    if session.scalar(select(func.count()).select_from(Promise)):
        return 0
    defaults = catalogue.default_catalogue(settings)
    for position, default in enumerate(defaults):
        session.add(
            Promise(
                key=default.key,
                kind=default.kind,
                parameters=default.parameters,
                texts={},
                target=default.target,
                position=position,
            )
        )
    session.flush()
    return len(defaults)


def all_promises(*, session: Session, active_only: bool = False) -> list[Promise]:
    query = select(Promise).order_by(Promise.position, Promise.id)
    if active_only:
        query = query.where(Promise.active.is_(True))
    return list(session.scalars(query))


def get_promise(*, session: Session, key: str) -> Promise:
    promise = session.scalar(select(Promise).where(Promise.key == key))
    if promise is None:
        raise NotFound(f"no promise {key!r}")
    return promise


def text_of(promise: Promise, language: str, settings: Settings) -> str:
    """The promise in ``language``: staff's own text, else the kind's translated default."""
    own = (promise.texts or {}).get(language)
    return own or catalogue.render(promise.kind, promise.parameters, language, settings)


def _describe(promise: Promise) -> dict[str, Any]:
    return {
        "kind": promise.kind,
        "parameters": promise.parameters,
        "texts": promise.texts,
        "target": promise.target,
        "segment_key": promise.segment_key,
        "active": promise.active,
    }


def _check_target(target: float) -> float:
    if not 0.0 < target <= 1.0:
        raise InvalidInput(FieldError("target", "a share above 0 and at most 1, e.g. 0.99"))
    return float(target)


def _check_segment(session: Session, key: str | None) -> str | None:
    if key and session.scalar(select(Segment.id).where(Segment.key == key)) is None:
        raise InvalidInput(FieldError("segment_key", f"no segment {key!r}"))
    return key or None


def create_promise(
    *,
    session: Session,
    key: str,
    kind: str,
    parameters: dict[str, Any] | None,
    target: float,
    texts: dict[str, str] | None = None,
    segment_key: str | None = None,
    actor: Actor,
) -> Promise:
    if not key or len(key) > 64 or any(c not in KEY_PATTERN for c in key):
        raise InvalidInput(FieldError("key", "lower-case letters, digits and '-', 1 to 64"))
    checked = catalogue.parameters(kind, parameters).model_dump()
    promise = Promise(
        key=key,
        kind=kind,
        parameters=checked,
        texts=catalogue.check_texts(texts),
        target=_check_target(target),
        segment_key=_check_segment(session, segment_key),
        position=(session.scalar(select(func.max(Promise.position))) or 0) + 1,
    )
    if session.scalar(select(Promise.id).where(Promise.key == key)) is not None:
        raise Conflict(f"a promise {key!r} exists already")
    session.add(promise)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="promise.create",
        entity_type="promise",
        entity_id=key,
        after=_describe(promise),
    )
    return promise


def update_promise(*, session: Session, key: str, changes: dict[str, Any], actor: Actor) -> Promise:
    """Changes some of parameters, target, texts, segment_key, active; audited."""
    promise = get_promise(session=session, key=key)
    before = _describe(promise)
    unknown = set(changes) - {"parameters", "target", "texts", "segment_key", "active"}
    if unknown:
        raise InvalidInput(FieldError(sorted(unknown)[0], "cannot be changed"))
    if "parameters" in changes:
        merged = {**promise.parameters, **(changes["parameters"] or {})}
        promise.parameters = catalogue.parameters(promise.kind, merged).model_dump()
    if "target" in changes:
        promise.target = _check_target(changes["target"])
    if "texts" in changes:
        promise.texts = catalogue.check_texts(changes["texts"])
    if "segment_key" in changes:
        promise.segment_key = _check_segment(session, changes["segment_key"])
    if "active" in changes:
        promise.active = bool(changes["active"])
    promise.version += 1
    promise.updated_at = utcnow()
    promise.inputs = None  # measured again at the next round
    record(
        session=session,
        actor=actor,
        action="promise.update",
        entity_type="promise",
        entity_id=key,
        before=before,
        after=_describe(promise),
    )
    return promise


# -- measurement -----------------------------------------------------------------------------


def rule_of(promise: Promise, settings: Settings) -> evaluate.Rule:
    caps = ""
    if promise.kind == catalogue.MESSAGE_CAP:
        caps = catalogue.effective_caps(promise.parameters, settings)
    return evaluate.Rule(promise.key, promise.kind, dict(promise.parameters), caps)


def inputs_mark(promise: Promise, data_dir: Path, settings: Settings, as_of: datetime) -> str:
    """``<definition>:<records and day>``, hashed: what a measurement was made from. The
    definition part tells an incremental round whether the stored figures still apply."""
    fingerprints = []
    for name in READS[promise.kind]:
        path = snapshot_dir(data_dir, name) / FINGERPRINT_FILE
        fingerprints.append(path.read_text() if path.exists() else "")
    rule = rule_of(promise, settings)
    # The shape of the instances too: a promise measured before a column was added is measured
    # whole again, its older breaches with it.
    definition = [promise.version, rule.parameters, rule.caps, promise.segment_key, evaluate.SHAPE]
    data = [fingerprints, as_of.astimezone(UTC).date().isoformat()]
    return f"{_hash(definition)[:16]}:{_hash(data)[:47]}"


def _hash(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, default=str)).hexdigest()


def incremental_since(
    promise: Promise, rule: evaluate.Rule, mark: str, as_of: datetime
) -> datetime | None:
    """The start of the first day whose instances may have changed since the last measurement,
    when the stored figures can be kept before it; None: measure the promise whole."""
    stored = promise.inputs or ""
    horizon = evaluate.horizon(rule)
    if (
        promise.measured_at is None
        or promise.measured_at > as_of  # measured again for an earlier instant
        or promise.segment_key  # its members move: measured whole
        or stored.partition(":")[0] != mark.partition(":")[0]
    ):
        return None
    day = (promise.measured_at - horizon).astimezone(UTC).date()
    return datetime.combine(day, time(), UTC)


@dataclass
class Measured:
    days: dict[date, tuple[int, int]]
    breaches: pa.Table  # the broken instances (measure.COLUMNS), by broke_at and evidence_id
    # An incremental round: per earlier day (before ``Rule.since``), how many of its instances
    # kept at the last round are broken now; their breaches are among ``breaches``.
    broken_since: dict[date, int] = field(default_factory=dict)

    def breach_rows(self) -> list[dict[str, Any]]:
        """The broken instances as dicts, converted column by column: Arrow's row-wise
        conversion of zoned timestamps takes seconds for a hundred thousand rows."""
        columns = {
            name: _python_values(self.breaches.column(name)) for name in self.breaches.column_names
        }
        return [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]


def _python_values(column: pa.ChunkedArray) -> list[Any]:
    """Timestamps as aware UTC datetimes: both engines run in UTC, and a table read back from
    Spark's cache comes without its zone."""
    if not pa.types.is_timestamp(column.type):
        return column.to_pylist()
    micros = column.cast(pa.timestamp("us", column.type.tz)).cast(pa.int64()).to_pylist()
    return [None if m is None else EPOCH + timedelta(microseconds=m) for m in micros]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def measure_one(
    model: Model, rule: evaluate.Rule, as_of: datetime, members: Sequence[int] | None = None
) -> Measured:
    """Evaluates one promise: good and total per day, and every broken instance. The instances
    are computed once, into the engine's cache, and both answers are read from there."""
    table = evaluate.instances(model, rule, as_of)
    if members is not None:
        table = table.filter(
            table.person_id.isin(_members_table(model, rule.key, members).person_id)
        )
    with table.cache() as cached:
        day = cached.started_at.truncate("D")
        counts = (
            cached.group_by(day=day)
            .aggregate(good=cached.kept.cast("int64").sum(), total=cached.count())
            .to_pyarrow()
            .to_pylist()
        )
        broken = cached.filter(~cached.kept).order_by(["broke_at", "evidence_id"]).to_pyarrow()
    days = {_as_date(row["day"]): (int(row["good"] or 0), int(row["total"])) for row in counts}
    # Instances before ``since`` are returned only when they broke after the last round.
    first = rule.since.date() if rule.since is not None else None
    earlier = {day: total for day, (_, total) in days.items() if first and day < first}
    days = {day: counts for day, counts in days.items() if day not in earlier}
    return Measured(days, broken, earlier)


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _members_table(model: Model, key: str, members: Sequence[int]) -> Any:
    folder = model.data_dir / evaluate.WORK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"members-{key}.parquet"
    pq.write_table(pa.table({"person_id": pa.array(sorted(members), pa.int64())}), path)
    return model.backend.read_parquet(str(path))


def segment_members(session: Session, key: str) -> list[int]:
    return list(
        session.scalars(
            select(SegmentMember.customer_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(Segment.key == key)
        )
    )


def _store(
    session: Session, promise: Promise, measured: Measured, since: datetime | None = None
) -> None:
    """Replaces the stored figures and breaches (from ``since`` on, in an incremental round)."""
    # The case a customer opened about a breach stays with it when the breach is found again.
    cases = {
        f"{kind}:{evidence}": case
        for kind, evidence, case in session.execute(
            select(
                PromiseBreach.evidence_kind, PromiseBreach.evidence_id, PromiseBreach.case_id
            ).where(PromiseBreach.promise_id == promise.id, PromiseBreach.case_id.is_not(None))
        )
    }
    days, breaches = delete(PromiseDay), delete(PromiseBreach)
    if since is not None:
        days = days.where(PromiseDay.day >= since.date())
        breaches = breaches.where(PromiseBreach.started_at >= since)
    session.execute(days.where(PromiseDay.promise_id == promise.id))
    session.execute(breaches.where(PromiseBreach.promise_id == promise.id))
    for day, (good, total) in sorted(measured.days.items()):
        session.add(PromiseDay(promise_id=promise.id, day=day, good=good, total=total))
    for day, broken in sorted(measured.broken_since.items()):
        session.execute(
            update(PromiseDay)
            .where(PromiseDay.promise_id == promise.id, PromiseDay.day == day)
            .values(good=PromiseDay.good - broken)
        )
    session.flush()
    _store_weeks(session, promise)
    kept = {
        (kind, evidence)
        for kind, evidence in session.execute(
            select(PromiseBreach.evidence_kind, PromiseBreach.evidence_id).where(
                PromiseBreach.promise_id == promise.id
            )
        )
    }
    for row in measured.breach_rows():
        evidence = (row["evidence_kind"], int(row["evidence_id"]))
        if evidence in kept or row["customer_id"] is None:
            continue  # one send breaking two withdrawals of the same purpose is one breach
        kept.add(evidence)
        session.add(
            PromiseBreach(
                promise_id=promise.id,
                customer_id=int(row["customer_id"]),
                evidence_kind=evidence[0],
                evidence_id=evidence[1],
                started_at=row["started_at"],
                broke_at=row["broke_at"],
                channel=row["channel"],
                campaign=row["campaign"],
                team=row["team"],
                source=row["source"],
                case_id=cases.get(f"{evidence[0]}:{evidence[1]}"),
            )
        )


def stored_breaches(session: Session, promise: Promise) -> pa.Table:
    """The promise's stored breaches as an incremental round of withdrawals reads them
    (``measure.BREACH_COLUMNS``)."""
    rows = session.execute(
        select(
            PromiseBreach.customer_id,
            PromiseBreach.evidence_id,
            PromiseBreach.started_at,
            PromiseBreach.broke_at,
        ).where(PromiseBreach.promise_id == promise.id)
    ).all()
    columns = list(zip(*rows, strict=True)) or [(), (), (), ()]
    types = (pa.int64(), pa.int64(), pa.timestamp("us", "UTC"), pa.timestamp("us", "UTC"))
    return pa.table(
        {
            name: pa.array(values, kind)
            for name, values, kind in zip(evaluate.BREACH_COLUMNS, columns, types, strict=True)
        }
    )


def stored_days(session: Session, promise: Promise) -> dict[date, tuple[int, int]]:
    rows = session.execute(
        select(PromiseDay.day, PromiseDay.good, PromiseDay.total).where(
            PromiseDay.promise_id == promise.id
        )
    )
    return {day: (good, total) for day, good, total in rows}


def _store_weeks(session: Session, promise: Promise) -> None:
    session.execute(delete(PromiseWeek).where(PromiseWeek.promise_id == promise.id))
    weeks: dict[date, list[int]] = {}
    for day, (good, total) in stored_days(session, promise).items():
        week = weeks.setdefault(day - timedelta(days=day.weekday()), [0, 0])
        week[0] += good
        week[1] += total
    for week_start, (good, total) in sorted(weeks.items()):
        session.add(PromiseWeek(promise_id=promise.id, week=week_start, good=good, total=total))


@dataclass
class RoundReport:
    measured: list[str] = field(default_factory=list)
    incremental: list[str] = field(default_factory=list)  # measured from a day on, not whole
    unchanged: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


Alert = Callable[[Promise, list[Any]], None]


def measure_promises(
    *,
    sessions: SessionFactory,
    settings: Settings,
    model: Callable[[], Model],
    as_of: datetime | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
    alert: Alert | None = None,
) -> RoundReport:
    """Measures each active promise whose inputs moved; alerts on a fast burn (once a day)."""
    from tillit.promises import slo

    as_of = as_of or utcnow()
    report = RoundReport()
    made: list[Model] = []
    with sessions() as session, session.begin():
        ensure_catalogue(session=session, settings=settings)
        keys = [p.key for p in all_promises(session=session, active_only=True)]
    for key in keys:
        if only is not None and key not in only:
            continue
        with sessions() as session, session.begin():
            promise = get_promise(session=session, key=key)
            mark = inputs_mark(promise, settings.data_dir, settings, as_of)
            if not force and promise.inputs == mark:
                report.unchanged.append(key)
                continue
            if not made:
                made.append(model())
            members = segment_members(session, promise.segment_key) if promise.segment_key else None
            rule = rule_of(promise, settings)
            since = None if force else incremental_since(promise, rule, mark, as_of)
            previous = promise.measured_at if since is not None else None
            breaches = None
            if since is not None and rule.kind == catalogue.WITHDRAWAL_STOP:
                breaches = stored_breaches(session, promise)
            measured = measure_one(
                made[0],
                replace(rule, since=since, previous=previous, breaches=breaches),
                as_of,
                members,
            )
            _store(session, promise, measured, since)
            promise.inputs, promise.measured_at = mark, as_of
            report.measured.append(key)
            if since is not None:
                report.incremental.append(key)
            days = stored_days(session, promise)
            firing = [
                b for b in slo.burns(days, end=as_of.date(), target=promise.target) if b.firing
            ]
            already = promise.alerted_at is not None and promise.alerted_at.date() == as_of.date()
            if firing and not already:
                promise.alerted_at = as_of
                report.alerts.append(key)
                if alert is not None:
                    alert(promise, firing)
    return report
