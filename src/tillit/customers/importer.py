"""Importing customers from CSV: good rows committed, bad rows reported with line numbers.

A row is matched to an existing customer through any of its identities, so re-running the same
file changes nothing. A row whose identities belong to two different customers is rejected
rather than silently merging them (merging is the identity graph's job, with its own audit).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, selectinload

from tillit.audit.service import Actor, record
from tillit.customers.models import Customer, Identity, IdentityType
from tillit.customers.normalise import InvalidIdentity, normalise
from tillit.customers.service import Defaults, snapshot
from tillit.customers.validation import (
    check_country,
    check_locale,
    check_text,
    check_time_zone,
    check_traits,
    check_traits_size,
)
from tillit.errors import FieldError
from tillit.storage.session import SessionFactory

PROFILE_COLUMNS = ("name", "locale", "time_zone", "country")
IDENTITY_COLUMNS = tuple(str(kind) for kind in IdentityType)
TRAIT_PREFIX = "trait."
BATCH_SIZE = 500


class BadFile(ValueError):
    """The file as a whole cannot be imported (nothing was written)."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class ParsedRow:
    line: int
    profile: dict[str, str]
    traits: dict[str, str]
    identities: list[tuple[str, str]]
    raw: dict[str, str]


def check_header(columns: Iterable[str]) -> None:
    known = set(PROFILE_COLUMNS) | set(IDENTITY_COLUMNS)
    unknown = [c for c in columns if c not in known and not c.startswith(TRAIT_PREFIX)]
    if unknown:
        raise BadFile(
            f"line 1: unknown column(s) {', '.join(unknown)}; use {', '.join(sorted(known))} "
            f"or {TRAIT_PREFIX}<name> for traits"
        )
    if not set(columns) & set(IDENTITY_COLUMNS):
        raise BadFile(
            f"line 1: no identity column; add at least one of {', '.join(IDENTITY_COLUMNS)}"
        )


def parse_row(line: int, raw: dict[str, Any], defaults: Defaults) -> ParsedRow | list[FieldError]:
    errors: list[FieldError] = []
    if None in raw:  # csv puts surplus cells under the key None
        errors.append(FieldError("row", "has more cells than the header has columns"))
    cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    errors += [error for k, v in cells.items() if (error := check_text(v, k))]
    if errors:
        return errors
    identities = []
    for column in IDENTITY_COLUMNS:
        if cells.get(column):
            try:
                identities.append(
                    (column, normalise(column, cells[column], default_country=defaults.country))
                )
            except InvalidIdentity as error:
                errors.append(FieldError(column, str(error)))
    profile: dict[str, str] = {}
    checks = {"locale": check_locale, "time_zone": check_time_zone, "country": check_country}
    for column in PROFILE_COLUMNS:
        value = cells.get(column)
        if not value:
            continue
        checked = checks[column](value, column) if column in checks else value
        if isinstance(checked, FieldError):
            errors.append(checked)
        else:
            profile[column] = checked
    if not identities and not errors:
        errors.append(FieldError("row", "has no identity (e-mail, phone, user id …)"))
    if errors:
        return errors
    traits = {
        k[len(TRAIT_PREFIX) :]: v for k, v in cells.items() if k.startswith(TRAIT_PREFIX) and v
    }
    if errors := check_traits(traits, field=TRAIT_PREFIX.rstrip(".")):
        return errors
    return ParsedRow(line=line, profile=profile, traits=traits, identities=identities, raw=cells)


def import_customers(
    *,
    sessions: SessionFactory,
    source: TextIO,
    defaults: Defaults,
    actor: Actor,
    source_name: str = "import",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    reader = csv.DictReader(source)
    check_header(reader.fieldnames or [])
    report = ImportReport()
    for batch in _batches(_parsed_rows(reader, defaults, report), BATCH_SIZE):
        with sessions() as session, session.begin():
            _apply_batch(session, batch, defaults, actor, source_name, report)
        if progress:
            progress(len(batch))
    return report


def write_rejects(path: Path, report: ImportReport, columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *columns])
        for line, reason, raw in sorted(report.rejected, key=lambda item: item[0]):
            writer.writerow([line, reason, *(raw.get(c, "") for c in columns)])


def _parsed_rows(
    reader: csv.DictReader[str], defaults: Defaults, report: ImportReport
) -> Iterator[ParsedRow]:
    for raw in reader:
        parsed = parse_row(reader.line_num, raw, defaults)
        if isinstance(parsed, list):
            reason = "; ".join(f"{e.field}: {e.message}" for e in parsed)
            report.rejected.append((reader.line_num, reason, {k: v for k, v in raw.items() if k}))
        else:
            yield parsed


def _batches(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    batch: list[ParsedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply_batch(
    session: Session,
    batch: list[ParsedRow],
    defaults: Defaults,
    actor: Actor,
    source: str,
    report: ImportReport,
) -> None:
    keys = {key for row in batch for key in row.identities}
    owners: dict[tuple[str, str], Customer] = {}
    if keys:
        found = session.scalars(
            select(Identity)
            .where(tuple_(Identity.type, Identity.value).in_(list(keys)))
            .options(selectinload(Identity.customer).selectinload(Customer.identities))
        )
        owners = {(i.type, i.value): i.customer for i in found}
    for row in batch:
        matches = {owners[key].id: owners[key] for key in row.identities if key in owners}
        if len(matches) > 1:
            report.rejected.append(
                (
                    row.line,
                    "identities belong to different customers "
                    f"({', '.join(map(str, sorted(matches)))}); not merged",
                    row.raw,
                )
            )
            continue
        if matches:
            customer = next(iter(matches.values()))
            if too_big := check_traits_size({**(customer.traits or {}), **row.traits}):
                report.rejected.append((row.line, f"traits: {too_big[0].message}", row.raw))
                continue
            changed = _update(session, customer, row, actor, source)
            report.updated += changed
            report.unchanged += not changed
        else:
            customer = _create(session, row, defaults, actor, source)
            report.created += 1
        for key in row.identities:
            owners[key] = customer  # later rows in the same file find it too


def _create(
    session: Session, row: ParsedRow, defaults: Defaults, actor: Actor, source: str
) -> Customer:
    customer = Customer(
        name=row.profile.get("name"),
        locale=row.profile.get("locale", defaults.language),
        time_zone=row.profile.get("time_zone", defaults.time_zone),
        country=row.profile.get("country"),
        traits=row.traits,
        identities=[Identity(type=t, value=v, source=source) for t, v in row.identities],
    )
    session.add(customer)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="customer.import",
        entity_type="customer",
        entity_id=customer.id,
        after={**snapshot(customer), "line": row.line},
    )
    return customer


def _update(
    session: Session, customer: Customer, row: ParsedRow, actor: Actor, source: str
) -> bool:
    before = snapshot(customer)
    for key, value in row.profile.items():
        setattr(customer, key, value)
    if row.traits:
        customer.traits = {**(customer.traits or {}), **row.traits}
    held = {(i.type, i.value) for i in customer.identities}
    added = [key for key in row.identities if key not in held]
    for kind, value in added:
        customer.identities.append(Identity(type=kind, value=value, source=source))
    after = snapshot(customer)
    if after == before and not added:
        return False
    session.flush()
    record(
        session=session,
        actor=actor,
        action="customer.import",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after={**after, "added": [f"{k}:{v}" for k, v in added], "line": row.line},
    )
    return True
