"""Parquet snapshots of the operational tables that analysis needs, next to the event lake.

Layout: ``data_dir/lake/<table>/data.parquet``, one file per table, replaced atomically (written
to a temporary file, then renamed), so a reader sees the old or the new snapshot, never half.

Refresh is incremental per table by a *change fingerprint*: a few cheap aggregates over the
table (row count, highest id, and for rows that change in place the latest ``updated_at`` or
counts and sums over the changing columns). A table is rewritten only when its fingerprint
differs from the one stored with its last snapshot (``_fingerprint.json`` beside it; Spark and
DuckDB skip files starting with ``_``); unchanged tables cost one aggregate query each. Inserts
raise the count and highest id, deletions (erasure) lower the count, and each in-place change
the fingerprint names moves one of its aggregates.

Only what analysis needs is copied: no names, addresses, identity values or free text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from tillit.campaigns.models import Campaign, CampaignMessage
from tillit.consent.models import ConsentRecord, PreferenceVersion
from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.customers.models import Customer, CustomerStatus, Identity
from tillit.dialogues.models import Ask, Case, CaseNote, Question, Response
from tillit.experiments.models import Experiment, Exposure
from tillit.feedback.models import Feedback, FeedbackTheme
from tillit.identity.models import Merge
from tillit.privacy.models import DataRequest
from tillit.storage.session import SessionFactory

SNAPSHOT_FILE = "data.parquet"
FINGERPRINT_FILE = "_fingerprint.json"
BATCH_ROWS = 50_000

UTC_TIME = pa.timestamp("us", tz="UTC")


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    source: Any  # a SQLAlchemy column expression
    convert: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Snapshot:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    base: Callable[[Select[Any]], Select[Any]] = lambda query: query
    fingerprint: tuple[Select[Any], ...] = ()
    rows: Callable[[Session], Sequence[Sequence[Any]]] | None = field(default=None)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])


def _people(session: Session) -> list[tuple[int, int]]:
    """Every merged-away profile and the person it now belongs to: merges not undone, followed
    to the end of the chain (a merged into b merged into c: a and b belong to c)."""
    into = dict(
        session.execute(
            select(Merge.from_customer_id, Merge.into_customer_id)
            .where(Merge.undone_at.is_(None))
            .order_by(Merge.id)
        ).all()
    )
    pairs = []
    for start in into:
        person, seen = start, {start}
        while person in into and into[person] not in seen:
            person = into[person]
            seen.add(person)
        pairs.append((start, person))
    return sorted(pairs)


def _count_max(model: Any, *more: ColumnElement[Any]) -> Select[Any]:
    return select(func.count(), func.max(model.id), *more)


SNAPSHOTS: tuple[Snapshot, ...] = (
    Snapshot(
        name="customers",
        key=("customer_id",),
        columns=(
            Column("customer_id", pa.int64(), Customer.id),
            Column("language", pa.string(), Customer.locale, lambda v: v.split("-")[0]),
            Column("locale", pa.string(), Customer.locale),
            Column("country", pa.string(), Customer.country),
            Column("time_zone", pa.string(), Customer.time_zone),
            Column("status", pa.string(), Customer.status),
            Column("traits", pa.string(), Customer.traits, _json),
            Column("created_at", UTC_TIME, Customer.created_at),
            Column("updated_at", UTC_TIME, Customer.updated_at),
        ),
        # An erased person's tombstone stays in the database, not in analysis.
        base=lambda q: q.where(Customer.status != CustomerStatus.erased),
        fingerprint=(
            _count_max(Customer, func.max(Customer.updated_at)).where(
                Customer.status != CustomerStatus.erased
            ),
        ),
    ),
    Snapshot(
        name="identities",
        key=("identity_id",),
        columns=(
            Column("identity_id", pa.int64(), Identity.id),
            Column("customer_id", pa.int64(), Identity.customer_id),
            Column("type", pa.string(), Identity.type),
            Column("verified", pa.bool_(), Identity.verified),
            Column("source", pa.string(), Identity.source),
            Column("created_at", UTC_TIME, Identity.created_at),
        ),
        # A merge moves identities to another profile: the sum of owners moves with them.
        fingerprint=(_count_max(Identity, func.sum(Identity.customer_id)),),
    ),
    Snapshot(
        name="person_map",
        key=("customer_id",),
        columns=(
            Column("customer_id", pa.int64(), None),
            Column("person_id", pa.int64(), None),
        ),
        fingerprint=(_count_max(Merge, func.count(Merge.undone_at)),),
        rows=_people,
    ),
    Snapshot(
        name="consents",
        key=("consent_id",),
        columns=(
            Column("consent_id", pa.int64(), ConsentRecord.id),
            Column("customer_id", pa.int64(), ConsentRecord.customer_id),
            Column("sequence", pa.int64(), ConsentRecord.sequence),
            Column("purpose_key", pa.string(), ConsentRecord.purpose_key),
            Column("decision", pa.string(), ConsentRecord.decision),
            Column("method", pa.string(), ConsentRecord.method),
            Column("channel", pa.string(), ConsentRecord.channel),
            Column("notice_version", pa.int64(), ConsentRecord.notice_version),
            Column("recorded_at", UTC_TIME, ConsentRecord.recorded_at),
        ),
        fingerprint=(_count_max(ConsentRecord),),  # append-only: a hash chain
    ),
    Snapshot(
        name="preferences",
        key=("customer_id", "version"),
        columns=(
            Column("customer_id", pa.int64(), PreferenceVersion.customer_id),
            Column("version", pa.int64(), PreferenceVersion.version),
            Column("document", pa.string(), PreferenceVersion.document, _json),
            Column("changed", pa.string(), PreferenceVersion.changed, _json),
            Column("method", pa.string(), PreferenceVersion.method),
            Column("recorded_at", UTC_TIME, PreferenceVersion.recorded_at),
        ),
        fingerprint=(_count_max(PreferenceVersion),),  # append-only: versions
    ),
    Snapshot(
        name="answers",
        key=("response_id",),
        columns=(
            Column("response_id", pa.int64(), Response.id),
            Column("customer_id", pa.int64(), Response.customer_id),
            Column("ask_id", pa.int64(), Response.ask_id),
            Column("question_key", pa.string(), Question.key),
            Column("question_type", pa.string(), Question.type),
            Column("score", pa.int64(), Response.score),
            Column("choices", pa.string(), Response.choices, _json),
            Column("channel", pa.string(), Response.channel),
            Column("language", pa.string(), Response.language),
            Column("answered_at", UTC_TIME, Response.answered_at),
        ),
        base=lambda q: q.join(Question, Question.id == Response.question_id),
        fingerprint=(_count_max(Response),),
    ),
    Snapshot(
        name="asks",
        key=("ask_id",),
        columns=(
            Column("ask_id", pa.int64(), Ask.id),
            Column("customer_id", pa.int64(), Ask.customer_id),
            Column("question_key", pa.string(), Question.key),
            Column("channel", pa.string(), Ask.channel),
            Column("trigger", pa.string(), Ask.trigger),
            Column("status", pa.string(), Ask.status),
            Column("held_reason", pa.string(), Ask.held_reason),
            Column("language", pa.string(), Ask.language),
            Column("created_at", UTC_TIME, Ask.created_at),
            Column("due_at", UTC_TIME, Ask.due_at),
            Column("closed_at", UTC_TIME, Ask.closed_at),
        ),
        base=lambda q: q.join(Question, Question.id == Ask.question_id),
        # An ask moves pending -> sent/held -> answered/expired in place: counts per status.
        fingerprint=(
            _count_max(Ask),
            select(Ask.status, func.count()).group_by(Ask.status).order_by(Ask.status),  # type: ignore[arg-type]
        ),
    ),
    Snapshot(
        name="cases",
        key=("case_id",),
        columns=(
            Column("case_id", pa.int64(), Case.id),
            Column("customer_id", pa.int64(), Case.customer_id),
            Column("response_id", pa.int64(), Case.response_id),
            Column("rule", pa.string(), Case.rule),
            Column("priority", pa.string(), Case.priority),
            Column("status", pa.string(), Case.status),
            # Whom it is assigned to, as staff wrote it: a staff member's sign-in address or a
            # team's name (Tillit has no teams of its own). Staff's, not the customer's.
            Column("assignee", pa.string(), Case.assignee),
            Column("escalation_level", pa.int64(), Case.escalation_level),
            Column("created_at", UTC_TIME, Case.created_at),
            Column("first_response_due", UTC_TIME, Case.first_response_due),
            Column("resolution_due", UTC_TIME, Case.resolution_due),
            Column("first_response_at", UTC_TIME, Case.first_response_at),
            Column("resolved_at", UTC_TIME, Case.resolved_at),
        ),
        # Every change to a case adds a note (reply, assign, escalate, resolve); escalation by
        # the jobs process raises the level.
        fingerprint=(
            _count_max(Case, func.sum(Case.escalation_level), func.count(Case.resolved_at)),
            _count_max(CaseNote),
        ),
    ),
    Snapshot(
        name="contact_decisions",
        key=("decision_id",),
        columns=(
            Column("decision_id", pa.int64(), DecisionRecord.id),
            Column("customer_id", pa.int64(), DecisionRecord.customer_id),
            Column("purpose_key", pa.string(), DecisionRecord.purpose_key),
            Column("kind", pa.string(), DecisionRecord.kind),
            Column("channel", pa.string(), DecisionRecord.channel),
            Column("topic", pa.string(), DecisionRecord.topic),
            Column("outcome", pa.string(), DecisionRecord.outcome),
            Column("reasons", pa.string(), DecisionRecord.reasons, _json),
            Column("defer_until", UTC_TIME, DecisionRecord.defer_until),
            Column("decided_at", UTC_TIME, DecisionRecord.decided_at),
            Column("sent", pa.bool_(), DecisionRecord.sent),
        ),
        # A decision is flagged sent once its message goes out.
        fingerprint=(
            _count_max(DecisionRecord).add_columns(
                func.count().filter(DecisionRecord.sent.is_(True))
            ),
        ),
    ),
    Snapshot(
        name="sends",
        key=("send_id",),
        columns=(
            Column("send_id", pa.int64(), SendRecord.id),
            Column("customer_id", pa.int64(), SendRecord.customer_id),
            Column("decision_id", pa.int64(), SendRecord.decision_id),
            Column("channel", pa.string(), SendRecord.channel),
            Column("kind", pa.string(), SendRecord.kind),
            Column("topic", pa.string(), SendRecord.topic),
            Column("sent_at", UTC_TIME, SendRecord.sent_at),
            # The campaign that planned it, if any: its planned message names the decision
            # behind the send. Fixed when it is sent (the message is planned before).
            Column("campaign", pa.string(), Campaign.key),
        ),
        base=lambda q: (
            q.select_from(SendRecord)
            .outerjoin(CampaignMessage, CampaignMessage.decision_id == SendRecord.decision_id)
            .outerjoin(Campaign, Campaign.id == CampaignMessage.campaign_id)
        ),
        fingerprint=(_count_max(SendRecord),),
    ),
    Snapshot(
        name="data_requests",
        key=("request_id",),
        columns=(
            Column("request_id", pa.int64(), DataRequest.id),
            Column("customer_id", pa.int64(), DataRequest.customer_id),
            Column("kind", pa.string(), DataRequest.kind),
            Column("status", pa.string(), DataRequest.status),
            Column("channel", pa.string(), DataRequest.channel),
            Column("received_at", UTC_TIME, DataRequest.received_at),
            Column("completed_at", UTC_TIME, DataRequest.completed_at),
        ),
        # A request is completed (or rejected) in place.
        fingerprint=(
            _count_max(DataRequest, func.count(DataRequest.completed_at)),
            select(DataRequest.status, func.count())  # type: ignore[arg-type]
            .group_by(DataRequest.status)
            .order_by(DataRequest.status),
        ),
    ),
    Snapshot(
        name="comment_themes",
        key=("feedback_id",),
        columns=(
            Column("feedback_id", pa.int64(), Feedback.id),
            Column("customer_id", pa.int64(), Feedback.customer_id),
            Column("source", pa.string(), Feedback.source),
            Column("channel", pa.string(), Feedback.channel),
            Column("language", pa.string(), Feedback.language),
            Column("sentiment_label", pa.string(), Feedback.sentiment_label),
            Column("sentiment_score", pa.float64(), Feedback.sentiment_score),
            Column("nps", pa.int64(), Feedback.nps),
            Column("csat", pa.int64(), Feedback.csat),
            Column("theme_key", pa.string(), FeedbackTheme.key),
            Column("theme_label", pa.string(), FeedbackTheme.label),
            Column("theme_similarity", pa.float64(), Feedback.theme_similarity),
            Column("created_at", UTC_TIME, Feedback.created_at),
        ),
        base=lambda q: q.outerjoin(FeedbackTheme, FeedbackTheme.id == Feedback.theme_id),
        # Comments are re-themed in place and themes renamed.
        fingerprint=(
            _count_max(Feedback, func.sum(Feedback.theme_id)),
            _count_max(FeedbackTheme, func.max(FeedbackTheme.updated_at)),
        ),
    ),
    Snapshot(
        name="exposures",
        key=("exposure_id",),
        columns=(
            Column("exposure_id", pa.int64(), Exposure.id),
            Column("experiment_key", pa.string(), Experiment.key),
            Column("customer_id", pa.int64(), Exposure.customer_id),
            Column("variant", pa.string(), Exposure.variant),
            Column("via", pa.string(), Exposure.via),
            Column("exposed_at", UTC_TIME, Exposure.exposed_at),
        ),
        base=lambda q: q.join(Experiment, Experiment.id == Exposure.experiment_id),
        # Logged once per profile and variant, never changed in place (erasure deletes).
        fingerprint=(_count_max(Exposure),),
    ),
)
BY_NAME = {snapshot.name: snapshot for snapshot in SNAPSHOTS}


def snapshot_dir(data_dir: Path, name: str) -> Path:
    return data_dir / "lake" / name


def snapshot_path(data_dir: Path, name: str) -> Path:
    return snapshot_dir(data_dir, name) / SNAPSHOT_FILE


@dataclass
class RefreshReport:
    written: dict[str, int]  # table -> rows, for the tables rewritten
    unchanged: list[str]


def refresh_snapshots(
    *, sessions: SessionFactory, data_dir: Path, only: Sequence[str] | None = None
) -> RefreshReport:
    """Rewrites each snapshot whose change fingerprint moved since it was last written."""
    report = RefreshReport({}, [])
    for snapshot in SNAPSHOTS:
        if only is not None and snapshot.name not in only:
            continue
        with sessions() as session:
            mark = _fingerprint(session, snapshot)
            folder = snapshot_dir(data_dir, snapshot.name)
            stored = folder / FINGERPRINT_FILE
            if (folder / SNAPSHOT_FILE).exists() and stored.exists() and stored.read_text() == mark:
                report.unchanged.append(snapshot.name)
                continue
            rows = _write(session, snapshot, folder)
        # The fingerprint read before the rows: a change in between is caught next round.
        _replace(stored, mark.encode())
        report.written[snapshot.name] = rows
    return report


# An erased person leaves every snapshot, also where their rows stay in the database (the
# consent ledger is kept as proof): each erasure moves the fingerprint of every table about
# people, and their rows are left out when it is written.
ERASED = select(Customer.id).where(Customer.status == CustomerStatus.erased)
ERASED_COUNT = (
    select(func.count()).select_from(Customer).where(Customer.status == CustomerStatus.erased)
)


def _about_people(snapshot: Snapshot) -> bool:
    return any(c.name == "customer_id" for c in snapshot.columns)


def _fingerprint(session: Session, snapshot: Snapshot) -> str:
    queries = list(snapshot.fingerprint)
    if _about_people(snapshot):
        queries.append(ERASED_COUNT)
    # The columns first: a snapshot written before a column was added is written again.
    values: list[Any] = [[column.name for column in snapshot.columns]]
    values += [[list(row) for row in session.execute(query).all()] for query in queries]
    return orjson.dumps(values, default=str).decode()


def _write(session: Session, snapshot: Snapshot, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SNAPSHOT_FILE
    temporary = folder / f".{SNAPSHOT_FILE}.tmp"
    schema = snapshot.schema
    total = 0
    with pq.ParquetWriter(temporary, schema, compression="zstd") as writer:
        for batch in _batches(session, snapshot):
            columns: list[Sequence[Any]] = (
                list(zip(*batch, strict=True)) if batch else [() for _ in schema]
            )
            arrays = {}
            for column, values in zip(snapshot.columns, columns, strict=True):
                convert = column.convert
                arrays[column.name] = [
                    convert(v) if convert and v is not None else v for v in values
                ]
            writer.write_table(pa.table(arrays, schema=schema))
            total += len(batch)
    os.replace(temporary, target)  # readers never see half a file
    return total


def _batches(session: Session, snapshot: Snapshot) -> Any:
    if snapshot.rows is not None:
        erased = set(session.scalars(ERASED))
        yield [row for row in snapshot.rows(session) if not erased & set(row)]
        return
    key = snapshot.columns[0].source
    query = snapshot.base(select(*[c.source for c in snapshot.columns])).order_by(key)
    for column in snapshot.columns:
        if column.name == "customer_id":
            query = query.where(or_(column.source.is_(None), column.source.not_in(ERASED)))
    result = session.execute(query.execution_options(yield_per=BATCH_ROWS))
    empty = True
    for partition in result.partitions(BATCH_ROWS):
        empty = False
        yield [tuple(row) for row in partition]
    if empty:
        yield []


def _replace(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
