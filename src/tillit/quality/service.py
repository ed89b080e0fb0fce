"""Measuring data quality: per source and field, eight scores between 0 and 1 (or None when a
dimension does not apply). The formulas are in docs/events.md, "Data quality"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session

from tillit.quality import checks, queries
from tillit.storage.base import utcnow

DIMENSIONS = (
    "correct",
    "complete",
    "current",
    "consistent",
    "usable",
    "precise",
    "structured",
    "relevant",
)
# What the contact policy reads (contact/schema.py: channel addresses, time zone, language,
# country, status); there are no segments yet, so this is the whole list of readers.
POLICY_FIELDS = frozenset({"email", "phone", "locale", "time_zone", "country", "status"})


@dataclass
class FieldQuality:
    origin: str  # identity, traits or profile
    source: str
    field: str
    records: int = 0
    filled: int = 0  # records with a value
    values: int = 0  # non-empty values
    correct: float | None = None
    complete: float | None = None
    current: float | None = None
    consistent: float | None = None
    usable: float | None = None
    precise: float | None = None
    structured: float | None = None
    relevant: float | None = None

    @property
    def label(self) -> str:
        return {"identity": "identity", "traits": "traits", "profile": "profile"}[
            self.origin
        ] + f".{self.field}"

    def score(self, dimension: str) -> float | None:
        value: float | None = getattr(self, dimension)
        return value


@dataclass
class SourceQuality:
    source: str
    fields: list[FieldQuality] = field(default_factory=list)

    def score(self, dimension: str) -> float | None:
        """The unweighted mean over the fields where the dimension applies."""
        scores = [s for f in self.fields if (s := f.score(dimension)) is not None]
        return sum(scores) / len(scores) if scores else None


@dataclass
class QualityReport:
    measured_at: datetime
    current_days: int
    relevant_days: int
    sources: list[SourceQuality]


@dataclass
class _Tally:
    values: int = 0
    fresh: int = 0
    usable: int = 0
    checked: int = 0
    correct: int = 0
    precise_checked: int = 0
    precise: int = 0
    structured: int = 0


def measure(
    *,
    session: Session,
    default_country: str,
    source: str | None = None,
    current_days: int = 365,
    relevant_days: int = 90,
    now: datetime | None = None,
) -> QualityReport:
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    tallies = _tally_values(session, dialect, now - timedelta(days=current_days), default_country)
    records = {(o, s): int(n) for o, s, n in session.execute(queries.records_query())}
    consistency = {
        (o, s, f): (int(shared), int(agree))
        for o, s, f, shared, agree in session.execute(queries.consistency_query(dialect))
    }
    used = {
        key
        for (key,) in session.execute(
            queries.used_fields_query(dialect), {"since": now - timedelta(days=relevant_days)}
        )
    }
    by_source: dict[str, SourceQuality] = {}
    for origin, name, field_name, filled in session.execute(queries.filled_query(dialect)):
        if source is not None and name != source:
            continue
        key = (origin, name, field_name)
        quality = FieldQuality(origin, name, field_name, records=records.get((origin, name), 0))
        quality.filled = int(filled)
        _score(quality, tallies.get(key, _Tally()), consistency.get(key), used)
        by_source.setdefault(name, SourceQuality(name)).fields.append(quality)
    for entry in by_source.values():
        entry.fields.sort(key=lambda f: (f.origin, f.field))
    return QualityReport(
        measured_at=now,
        current_days=current_days,
        relevant_days=relevant_days,
        sources=[by_source[k] for k in sorted(by_source)],
    )


def _tally_values(
    session: Session, dialect: str, current_since: datetime, default_country: str
) -> dict[tuple[str, str, str], _Tally]:
    @cache
    def judge(field_name: str, value: str, kind: str) -> tuple[bool | None, bool | None, bool]:
        correct_check = checks.correct_check(field_name, default_country=default_country)
        correct = correct_check(value) if correct_check and kind == "text" else None
        if correct_check and kind != "text":
            correct = False  # a number or object where an e-mail or date belongs
        precise_check = checks.precise_check(field_name)
        precise = precise_check(value) if precise_check and kind == "text" else None
        if precise_check and kind != "text":
            precise = False
        return correct, precise, checks.is_structured(kind, value, correct)

    tallies: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    rows = session.execute(queries.values_query(dialect), {"current_since": current_since})
    for origin, name, field_name, value, kind, fresh, usable, n in rows:
        correct, precise, structured = judge(field_name, str(value), kind)
        tally = tallies[(origin, name, field_name)]
        tally.values += n
        tally.fresh += n if fresh else 0
        contact_ok = correct is not False or field_name not in checks.CONTACT_FIELDS
        tally.usable += n if usable and contact_ok else 0
        if correct is not None:
            tally.checked += n
            tally.correct += n if correct else 0
        if precise is not None:
            tally.precise_checked += n
            tally.precise += n if precise else 0
        tally.structured += n if structured else 0
    return tallies


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _score(
    quality: FieldQuality,
    tally: _Tally,
    consistency: tuple[int, int] | None,
    used: set[str],
) -> None:
    quality.values = tally.values
    quality.complete = _share(quality.filled, quality.records)
    quality.correct = _share(tally.correct, tally.checked)
    quality.current = _share(tally.fresh, tally.values)
    quality.usable = _share(tally.usable, tally.values)
    quality.precise = _share(tally.precise, tally.precise_checked)
    quality.structured = _share(tally.structured, tally.values)
    quality.consistent = _share(consistency[1], consistency[0]) if consistency else None
    quality.relevant = 1.0 if quality.field in POLICY_FIELDS or quality.field in used else 0.0
