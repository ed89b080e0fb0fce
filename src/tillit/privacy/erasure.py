"""Erasure (GDPR 17): one transaction removes or anonymises the person everywhere.

What remains: the customer row as a tombstone (id and status only), the consent chain without
its evidence (hashes still verify), a keyed hash of each contact point in the suppression list,
and an ``ErasureProof`` row with counts. Every other area erases its own tables and files with
the erasers listed in :mod:`tillit.privacy.areas`, deleting rows with
:func:`tillit.privacy.rows.delete_rows`, which first unlinks the rows elsewhere that point at
them (an ask kept for the metrics still names the contact decision that held it), so what one
area keeps never blocks what another deletes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select, update
from sqlalchemy.orm import Session, selectinload

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor, record
from tillit.consent.models import ConsentRecord, PersonalLink, PreferenceVersion, UnsubscribeList
from tillit.consent.suppression import suppress
from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.customers.models import Customer, CustomerStatus
from tillit.errors import NotFound
from tillit.identity.models import Merge
from tillit.privacy.areas import ERASER_TABLES, ERASERS, FILE_ERASERS
from tillit.privacy.models import DataRequest, ErasureProof
from tillit.privacy.rows import delete_rows

# The tables ``erase_customer`` handles itself (tombstone, suppression, audit, its own tables).
OWN_TABLES = (
    "customer",
    "identity",
    "audit_entry",
    "consent_record",
    "preference_version",
    "contact_send",
    "contact_decision",
    "personal_link",
    "unsubscribe_list",
    "data_request",
    "erasure_proof",
)
ERASED = {"erased": True}
MIN_NEEDLE = 4  # shorter values ("DK", "42") would scrub unrelated audit entries


def covered_tables() -> set[str]:
    """Every table some eraser answers for."""
    return set(OWN_TABLES).union(*ERASER_TABLES.values())


def erase_customer(
    *,
    session: Session,
    customer_id: int,
    secret_key: str,
    actor: Actor,
    request_id: int | None = None,
    data_dir: Path | None = None,
) -> ErasureProof:
    """Erase one person, with the profiles merged into theirs (the shells a merge leaves,
    which keep the name). The caller commits; any failure rolls the whole erasure back.

    With ``data_dir``, files holding the person (the event lake, import rejects) are
    rewritten without them too, after every row has been erased: a database failure leaves
    them untouched. Should the commit itself then fail, the files have lost only data that was
    being erased anyway, and the erasure can simply be run again."""
    run = _Run(session=session, secret_key=secret_key, actor=actor, request_id=request_id)
    proof = _erase_profile(run, customer_id)
    if data_dir is not None:
        for name, file_eraser in sorted(FILE_ERASERS.items()):
            touched = sum(file_eraser(data_dir, profile, needles) for profile, needles in run.files)
            proof.counts = {**proof.counts, f"files:{name}": touched}
        session.flush()
    return proof


@dataclass
class _Run:
    """One erasure: what every profile of the person is erased with, and what was done."""

    session: Session
    secret_key: str
    actor: Actor
    request_id: int | None
    files: list[tuple[int, list[str]]] = field(default_factory=list)  # (profile, needles)
    seen: set[int] = field(default_factory=set)


def _erase_profile(run: _Run, customer_id: int) -> ErasureProof:
    """Erases ``customer_id`` and, first, the profiles merged into it."""
    session = run.session
    run.seen.add(customer_id)
    customer = session.get(
        Customer, customer_id, with_for_update=True, options=[selectinload(Customer.identities)]
    )
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    for shell in sorted(_merged_into(session, customer_id) - run.seen):
        _erase_profile(run, shell)
    needles = _needles(customer)
    run.files.append((customer_id, needles))
    suppressed = sum(
        suppress(
            session=session,
            identity_type=str(identity.type),
            value=identity.value,
            secret_key=run.secret_key,
            reason="erasure",
        )
        for identity in customer.identities
    )
    counts: dict[str, int] = {
        name: eraser(session, customer_id, needles) for name, eraser in sorted(ERASERS.items())
    }
    counts.update(_erase_own_tables(session, customer_id))
    counts["audit_entry"] = _scrub_audit(session, customer_id, needles)
    counts["identity"] = len(customer.identities)
    _tombstone(customer)
    proof = ErasureProof(
        customer_id=customer_id, request_id=run.request_id, counts=counts, suppressed=suppressed
    )
    session.add(proof)
    session.flush()
    record(
        session=session,
        actor=run.actor,
        action="customer.erase",
        entity_type="customer",
        entity_id=customer_id,
        after={"proof": proof.id},
    )
    return proof


def _tombstone(customer: Customer) -> None:
    customer.identities.clear()
    customer.name = None
    customer.traits = {}
    customer.country = None
    customer.status = CustomerStatus.erased


def _merged_into(session: Session, customer_id: int) -> set[int]:
    """The profiles merged into this one and not unmerged: the same person."""
    return set(
        session.scalars(
            select(Merge.from_customer_id).where(
                Merge.into_customer_id == customer_id, Merge.undone_at.is_(None)
            )
        )
    )


def _needles(customer: Customer) -> list[str]:
    values: list[str] = [identity.value for identity in customer.identities]
    if customer.name:
        values.append(customer.name)
    values.extend(_strings(customer.traits or {}))
    return sorted({value for value in values if len(value) >= MIN_NEEDLE})


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _erase_own_tables(session: Session, customer_id: int) -> dict[str, int]:
    # The chain stays (it proves what was decided, and hashes cover only digests); the
    # evidence that could point at the person goes.
    blanked = session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.customer_id == customer_id)
        .values(ip_prefix=None, user_agent=None)
    )
    counts = {"consent_record": blanked.rowcount}  # type: ignore[attr-defined]
    for model in (PreferenceVersion, SendRecord, DecisionRecord, PersonalLink, UnsubscribeList):
        counts[model.__tablename__] = delete_rows(session, model, model.customer_id == customer_id)
    notes = session.execute(
        update(DataRequest).where(DataRequest.customer_id == customer_id).values(note=None)
    )
    counts["data_request"] = notes.rowcount  # type: ignore[attr-defined]
    return counts


def _scrub_audit(session: Session, customer_id: int, needles: list[str]) -> int:
    """Blank before/after of entries about this customer or whose payload mentions them."""
    conditions: list[ColumnElement[bool]] = [
        (AuditEntry.entity_type == "customer") & (AuditEntry.entity_id == str(customer_id))
    ]
    for needle in needles:
        # JSON may store non-ASCII escaped (\u00f8) or raw, depending on the backend.
        for form in {needle, json.dumps(needle)[1:-1]}:
            pattern = f"%{form}%"
            conditions.append(cast(AuditEntry.before, String).like(pattern))
            conditions.append(cast(AuditEntry.after, String).like(pattern))
    entries = list(session.scalars(select(AuditEntry).where(or_(*conditions))))
    for entry in entries:
        entry.before = ERASED if entry.before is not None else None
        entry.after = ERASED if entry.after is not None else None
    return len(entries)
