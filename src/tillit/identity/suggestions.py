"""Merge suggestions from probabilistic matching, decided by staff or merged automatically.

A profile belongs to the source that gave it its first identifier: a tracking source
(``source:store``, sent through the tracking API or an event file) or a customer import
(``import:customers.csv``). Matching runs on one source (duplicates within it), two or more
(the same person across them) or the whole workspace. A pair at or above the auto-merge
threshold is merged at once (status ``auto``, undoable with ``merge.unmerge``) when the merge
keeps within the identity limits (``TILLIT_IDENTITY_LIMITS``) as a deterministic merge must;
otherwise, and between the review floor and the threshold, it waits as an ``open``
suggestion. Blocked identity values count as missing in the comparison (``comparisons``).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.customers.models import Customer, CustomerStatus, Identity
from tillit.errors import Conflict, NotFound
from tillit.identity import matching
from tillit.identity.comparisons import MatchField, Readout, normalise, parse_fields, read_value
from tillit.identity.merge import PlannedMerge, current_holder, merge_many, merge_profiles
from tillit.identity.models import MatchSuggestion
from tillit.identity.rules import IdentityRules, load_rules
from tillit.storage.base import utcnow
from tillit.storage.bulk import Bulk

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SOURCE_PREFIXES = ("source:", "import:")
_CHUNK = 1000


class UnknownSource(NotFound):
    pass


@dataclass
class MatchReport:
    records: int = 0
    suggested: int = 0
    merged: int = 0
    held: int = 0  # above the threshold, but merging would break an identity limit
    unreadable: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, int] = field(default_factory=dict)
    not_compared: list[str] = field(default_factory=list)  # fields no profile has a value for
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def source_key(name: str) -> str:
    """'store' -> 'source:store'; 'import:customers.csv' and 'source:store' stay as they are."""
    return name if name.startswith(SOURCE_PREFIXES) else f"source:{name}"


def known_sources(*, session: Session) -> list[str]:
    return sorted(s for s in session.scalars(select(Identity.source).distinct()) if s)


def check_sources(*, session: Session, names: Sequence[str]) -> list[str]:
    """The sources as stored, or UnknownSource naming those no profile comes from."""
    keys = [source_key(n.strip()) for n in names]
    known = set(known_sources(session=session))
    unknown = [n for n, k in zip(names, keys, strict=True) if k not in known]
    if unknown:
        listed = ", ".join(k.removeprefix("source:") for k in sorted(known)) or "none yet"
        raise UnknownSource(
            f"no profiles come from {', '.join(repr(u) for u in unknown)}; known sources: {listed}"
        )
    return list(dict.fromkeys(keys))


# Each profile's first identifier says which source it comes from (module constants, see
# tillit.storage.bulk).
_PROFILES = (
    "SELECT c.id, c.traits, i.source FROM customer c "
    "JOIN (SELECT customer_id, min(id) AS first_id FROM identity GROUP BY customer_id) f "
    "ON f.customer_id = c.id JOIN identity i ON i.id = f.first_id WHERE c.status <> {p}"
)
_OF_SOURCES = " AND i.source {in_list}"
_HELD = (
    "SELECT customer_id, type, value FROM identity WHERE type {in_list} "
    "AND customer_id IN (SELECT c.id FROM customer c "
    "JOIN (SELECT customer_id, min(id) AS first_id FROM identity GROUP BY customer_id) f "
    "ON f.customer_id = c.id JOIN identity i ON i.id = f.first_id WHERE c.status <> {p}"
)


def profile_records(
    *,
    session: Session,
    sources: Sequence[str] | None,
    fields: Sequence[MatchField],
    rules: IdentityRules,
    readout: Readout,
) -> dict[str, list[matching.Record]]:
    """Normalised matching fields of each source's profiles (all profiles: under ''): one plain
    query, no ORM rows (the traits parsed by orjson)."""
    bulk = Bulk(session)
    params: tuple[Any, ...] = (CustomerStatus.erased.value,)
    where = ""
    if sources is not None:
        params, where = (*params, bulk.list_param(sources)), _OF_SOURCES
    profiles = bulk.rows(_PROFILES + where, params)
    kinds = sorted({f.identity for f in fields if f.identity})
    held: dict[int, dict[str, str]] = {}
    if kinds:
        for customer_id, kind, value in bulk.rows(
            _HELD + where + ") ORDER BY value", (bulk.list_param(kinds), *params)
        ):
            held.setdefault(int(customer_id), {}).setdefault(str(kind), value)
    groups: dict[str, list[matching.Record]] = {}
    read = _Reader(fields, rules, readout)
    for customer_id, traits, source in profiles:
        document = orjson.loads(traits) if isinstance(traits, str | bytes) else traits
        record: matching.Record = {"unique_id": str(customer_id)}
        read(record, document or {}, held.get(int(customer_id), {}))
        groups.setdefault(source if sources is not None else "", []).append(record)
    return groups


_BLOCKED, _UNREADABLE = "blocked", "unreadable"


class _Reader:
    """A profile's normalised fields. Names, dates and postcodes repeat: each distinct value
    of a field is checked against the blocked list and normalised once."""

    def __init__(
        self, fields: Sequence[MatchField], rules: IdentityRules, readout: Readout
    ) -> None:
        self.fields, self.rules, self.readout = fields, rules, readout
        self.known: dict[str, dict[tuple[type, object], tuple[str | None, str | None]]] = {
            f.name: {} for f in fields
        }
        self.blocked: dict[str, bool] = {}

    def __call__(
        self, record: matching.Record, traits: dict[str, Any], identities: dict[str, str]
    ) -> None:
        for f in self.fields:
            raw = read_value(f, traits, identities)
            if raw is None:
                record[f.name] = None
                continue
            known = self.known[f.name]
            key = (type(raw), raw)  # True and 1 are equal keys, not equal values
            found = known.get(key)
            if found is None:
                found = known[key] = self._first_read(f, raw)
            value, outcome = found
            if outcome == _BLOCKED:
                self.readout.blocked[f.name] += 1
            elif outcome == _UNREADABLE:
                self.readout.unreadable[f.name] += 1
            record[f.name] = value

    def _first_read(self, match_field: MatchField, raw: object) -> tuple[str | None, str | None]:
        text = str(raw)
        blocked = self.blocked.get(text)
        if blocked is None:
            blocked = self.blocked[text] = self.rules.is_blocked(text)
        if blocked:
            return None, _BLOCKED
        value = normalise(match_field.kind, raw)
        return value, (_UNREADABLE if value is None else None)


def run_matching(
    *,
    session: Session,
    sources: Sequence[str] | None,
    fields: Sequence[MatchField],
    rules: IdentityRules,
    review_floor: float,
    auto_threshold: float,
    actor: Actor,
    memory_limit: str = "3GB",
    spill_directory: Path | None = None,
    spark: SparkSession | None = None,
) -> MatchReport:
    """Match ``sources`` (stored keys, see ``check_sources``; None: the whole workspace): one
    source with itself, several with each other."""
    report = MatchReport()
    started = time.perf_counter()
    readout = Readout()
    with _earlier_objects_set_aside():
        groups = profile_records(
            session=session, sources=sources, fields=fields, rules=rules, readout=readout
        )
    ordered = [groups.get(s, []) for s in sources] if sources else list(groups.values())
    report.records = sum(len(g) for g in ordered)
    report.unreadable, report.blocked = dict(readout.unreadable), dict(readout.blocked)
    report.seconds["read"] = time.perf_counter() - started
    if sources is not None and len(sources) > 1 and sum(1 for g in ordered if g) < 2:
        return report  # nothing to link with
    # A field nobody has a value for is no evidence, and Splink cannot train it.
    present = [f for f in fields if any(r[f.name] is not None for g in ordered for r in g)]
    report.not_compared = [f.name for f in fields if f not in present]
    if not present:
        return report
    outcome = matching.find_pairs(
        ordered,
        present,
        threshold=review_floor,
        memory_limit=memory_limit,
        spill_directory=spill_directory,
        spark=spark,
    )
    report.warnings = outcome.warnings
    report.seconds["splink"] = time.perf_counter() - started - report.seconds["read"]
    with _earlier_objects_set_aside():
        _write_back(session, outcome.pairs, auto_threshold, rules, actor, report)
    report.seconds["total"] = time.perf_counter() - started
    return report


_frozen = 0  # runs inside _earlier_objects_set_aside, process-wide
_frozen_lock = threading.Lock()


@contextmanager
def _earlier_objects_set_aside() -> Iterator[None]:
    """Python's full garbage collections walk every object the process holds (Splink's,
    DuckDB's, pandas' and SQLAlchemy's modules: some 300,000) each time, 0.1 to 0.3 s a time;
    reading profiles and writing back make tens of thousands of objects that live until the
    end, which sets off several of them. The objects from before are set aside meanwhile
    (``gc.freeze``): they are not garbage that reading or writing back made. Splink runs
    outside, as it runs directly."""
    global _frozen
    with _frozen_lock:
        if _frozen == 0:
            gc.freeze()
        _frozen += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen -= 1
            if _frozen == 0:
                gc.unfreeze()


def match_sources(
    *,
    session: Session,
    settings: Settings,
    names: Sequence[str] | None,
    actor: Actor,
    spark: SparkSession | None = None,
) -> MatchReport:
    """``run_matching`` as the settings configure it: fields, floor, threshold, memory, rules.
    ``names`` as people write them ('store', 'import:customers.csv'); None: every profile."""
    sources = None if names is None else check_sources(session=session, names=names)
    return run_matching(
        session=session,
        sources=sources,
        fields=parse_fields(settings.match_fields),
        rules=load_rules(),
        review_floor=settings.match_review_floor,
        auto_threshold=settings.match_auto_threshold,
        actor=actor,
        memory_limit=settings.match_memory_limit,
        spill_directory=settings.data_dir / "tmp" / "matching",
        spark=spark,
    )


def _write_back(
    session: Session,
    pairs: Sequence[matching.Pair],
    auto_threshold: float,
    rules: IdentityRules,
    actor: Actor,
    report: MatchReport,
) -> None:
    """The automatic merges in one ``merge_many``, then the new suggestions, already decided
    where merged, in one bulk insert."""
    ordered = sorted(pairs, key=lambda p: -p.probability)
    oriented = [
        (min(int(p.left_id), int(p.right_id)), max(int(p.left_id), int(p.right_id)), p)
        for p in ordered
    ]
    known = _known_pairs(session, {a for a, _, _ in oriented})
    fresh = [(a, b, p) for a, b, p in oriented if (a, b) not in known]
    if not fresh:
        return
    automatic = [(a, b, p) for a, b, p in fresh if p.probability >= auto_threshold]
    plan, decided = _plan_merges(session, automatic, rules, report)
    merge_ids = merge_many(session=session, merges=plan, actor=actor)
    merged_by = dict(zip(plan, merge_ids, strict=True))
    rows, now = [], utcnow()
    stored: dict[matching.Evidence, dict[str, Any]] = {}  # pairs share their evidence
    for a, b, p in fresh:
        planned = decided.get((a, b), False)
        merge_id = merged_by.get(planned) if isinstance(planned, PlannedMerge) else None
        rows.append(
            {
                "left_customer_id": a,
                "right_customer_id": b,
                "probability": p.probability,
                "status": "open" if planned is False else "auto",
                "merge_id": merge_id,
                "decided_by": None if planned is False else actor.label,
                "created_at": now,
                "evidence": {name: _stored(e, stored) for name, e in p.evidence.items()},
            }
        )
    Bulk(session).insert(cast(Table, MatchSuggestion.__table__), rows)
    report.suggested, report.merged = len(rows), len(plan)


def _stored(evidence: matching.Evidence, stored: dict[matching.Evidence, dict[str, Any]]) -> Any:
    found = stored.get(evidence)
    if found is None:
        found = stored[evidence] = {
            "level": evidence.level,
            "verdict": evidence.verdict,
            "weight": evidence.weight,
        }
    return found


def _plan_merges(
    session: Session,
    automatic: Sequence[tuple[int, int, matching.Pair]],
    rules: IdentityRules,
    report: MatchReport,
) -> tuple[list[PlannedMerge], dict[tuple[int, int], PlannedMerge | None]]:
    """Most probable first, each pair joins two groups of profiles unless the group would then
    hold more identifiers of a type than the identity limits allow (then it waits for review).
    A pair already joined by earlier merges is decided without a merge of its own (None)."""
    customer_ids = sorted({i for a, b, _ in automatic for i in (a, b)})
    counts = _limited_counts(session, customer_ids, rules)
    parent = {i: i for i in customer_ids}
    size = dict.fromkeys(customer_ids, 1)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    plan: list[PlannedMerge] = []
    decided: dict[tuple[int, int], PlannedMerge | None] = {}
    for a, b, pair in automatic:
        ra, rb = root(a), root(b)
        if ra == rb:
            decided[(a, b)] = None
            continue
        together = counts[ra] + counts[rb]
        if any(together[kind] > limit for kind, limit in rules.limits.items()):
            report.held += 1
            continue
        into, away = (ra, rb) if (size[ra], -ra) >= (size[rb], -rb) else (rb, ra)
        parent[away], size[into], counts[into] = into, size[into] + size[away], together
        planned = PlannedMerge(away, into, f"match: probability {pair.probability:.4f}")
        plan.append(planned)
        decided[(a, b)] = planned
    return plan, decided


def _limited_counts(
    session: Session, customer_ids: Sequence[int], rules: IdentityRules
) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {i: Counter() for i in customer_ids}
    if not rules.limits:
        return counts
    for start in range(0, len(customer_ids), _CHUNK):
        for customer_id, kind, number in session.execute(
            select(Identity.customer_id, Identity.type, func.count())
            .where(
                Identity.customer_id.in_(customer_ids[start : start + _CHUNK]),
                Identity.type.in_(list(rules.limits)),
            )
            .group_by(Identity.customer_id, Identity.type)
        ):
            counts[customer_id][str(kind)] = number
    return counts


def _known_pairs(session: Session, left_ids: set[int]) -> set[tuple[int, int]]:
    ordered = sorted(left_ids)
    known: set[tuple[int, int]] = set()
    for start in range(0, len(ordered), _CHUNK):
        known.update(
            (a, b)
            for a, b in session.execute(
                select(MatchSuggestion.left_customer_id, MatchSuggestion.right_customer_id).where(
                    MatchSuggestion.left_customer_id.in_(ordered[start : start + _CHUNK])
                )
            )
        )
    return known


def decide(*, session: Session, suggestion_id: int, accept: bool, actor: Actor) -> MatchSuggestion:
    """Staff accepting a pair is an explicit instruction, as an alias is: it merges even where
    the identity limits would hold an automatic merge back."""
    suggestion = session.get(MatchSuggestion, suggestion_id)
    if suggestion is None:
        raise NotFound(f"match suggestion {suggestion_id} does not exist")
    if suggestion.status != "open":
        raise Conflict(f"match suggestion {suggestion_id} was already {suggestion.status}")
    if accept:
        _merge(session, suggestion, actor, status="accepted")
    else:
        suggestion.status, suggestion.decided_by = "rejected", actor.label
    return suggestion


@dataclass(frozen=True)
class SuggestionFilter:
    status: str | None = "open"
    min_probability: float = 0.0
    max_probability: float = 1.0
    customer_id: int | None = None


def _filtered(query: Any, where: SuggestionFilter) -> Any:
    if where.status:
        query = query.where(MatchSuggestion.status == where.status)
    query = query.where(
        MatchSuggestion.probability >= where.min_probability,
        MatchSuggestion.probability <= where.max_probability,
    )
    if where.customer_id is not None:
        query = query.where(
            (MatchSuggestion.left_customer_id == where.customer_id)
            | (MatchSuggestion.right_customer_id == where.customer_id)
        )
    return query


def list_suggestions(
    *,
    session: Session,
    where: SuggestionFilter = SuggestionFilter(),
    limit: int | None = 100,
    offset: int = 0,
) -> list[MatchSuggestion]:
    """Most probable first (then oldest), filtered; ``limit`` None: all."""
    query = _filtered(select(MatchSuggestion), where).order_by(
        MatchSuggestion.probability.desc(), MatchSuggestion.id
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query.offset(offset)))


def count_suggestions(*, session: Session, where: SuggestionFilter = SuggestionFilter()) -> int:
    return session.scalar(_filtered(select(func.count(MatchSuggestion.id)), where)) or 0


def open_suggestions(*, session: Session, limit: int = 100) -> list[MatchSuggestion]:
    return list_suggestions(session=session, limit=limit)


def _merge(session: Session, suggestion: MatchSuggestion, actor: Actor, *, status: str) -> None:
    """Merge the pair as it stands now: a side merged away since the suggestion was made is
    followed to the profile holding its identities (through chains of merges), so accepting
    never merges an empty shell; a pair already together is accepted without a merge."""
    left = current_holder(session=session, customer_id=suggestion.left_customer_id)
    right = current_holder(session=session, customer_id=suggestion.right_customer_id)
    for holder in {left, right}:
        profile = session.get(Customer, holder)
        if profile is None or profile.status == CustomerStatus.erased:
            raise Conflict(f"customer {holder} was erased; the pair cannot be merged")
    suggestion.status, suggestion.decided_by = status, actor.label
    if left == right:
        suggestion.merge_id = None
        return
    followed = [
        f"{was} now in {now}"
        for was, now in (
            (suggestion.right_customer_id, right),
            (suggestion.left_customer_id, left),
        )
        if was != now
    ]
    entry = merge_profiles(
        session=session,
        from_id=right,
        into_id=left,
        actor=actor,
        reason=f"match: probability {suggestion.probability:.4f}"
        + (f" (followed merges: {', '.join(followed)})" if followed else ""),
    )
    suggestion.merge_id = entry.id
