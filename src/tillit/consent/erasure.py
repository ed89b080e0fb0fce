"""Erasure (GDPR 17): one transaction removes or anonymises the person everywhere.

What remains: the customer row as a tombstone (id and status only), the consent chain without
its evidence (hashes still verify), a keyed hash of each contact point in the suppression list,
and an ``ErasureProof`` row with counts. Other areas register erasers for their own tables::

    @register_eraser("events")
    def erase_events(session: Session, customer_id: int, needles: list[str]) -> int: ...

An eraser returns how many rows it touched; ``needles`` are the person's contact points, name
and free-text trait values, for scrubbing text that mentions them.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, cast, delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor, record
from tillit.consent.models import (
    ConsentRecord,
    ContactDecision,
    DataRequest,
    ErasureProof,
    PersonalLink,
    PreferenceVersion,
    Send,
    UnsubscribeList,
)
from tillit.consent.suppression import suppress
from tillit.customers.models import Customer, CustomerStatus
from tillit.errors import NotFound

Eraser = Callable[[Session, int, list[str]], int]
FileEraser = Callable[[Path, int, list[str]], int]
ERASERS: dict[str, Eraser] = {}
FILE_ERASERS: dict[str, FileEraser] = {}
# Areas whose modules register erasers and exporters; imported by name when first needed, so
# consent never imports them (they depend on consent, not the other way round).
AREA_HOOKS = ("tillit.events.privacy", "tillit.dialogues.privacy", "tillit.feedback.privacy")
ERASED = {"erased": True}
MIN_NEEDLE = 4  # shorter values ("DK", "42") would scrub unrelated audit entries


def load_area_hooks() -> None:
    for module in AREA_HOOKS:
        importlib.import_module(module)


def register_file_eraser(name: str) -> Callable[[FileEraser], FileEraser]:
    """For data kept in files under the data directory (e.g. the Parquet event lake)."""

    def register(function: FileEraser) -> FileEraser:
        FILE_ERASERS[name] = function
        return function

    return register


def register_eraser(name: str) -> Callable[[Eraser], Eraser]:
    def register(function: Eraser) -> Eraser:
        ERASERS[name] = function
        return function

    return register


def erase_customer(
    *,
    session: Session,
    customer_id: int,
    secret_key: str,
    actor: Actor,
    request_id: int | None = None,
    data_dir: Path | None = None,
) -> ErasureProof:
    """Erase one person. The caller commits; any failure rolls the whole erasure back.

    With ``data_dir``, files holding the person (the event lake) are rewritten without them
    too. That happens before the commit: should the commit then fail, the files have lost only
    rows that were being erased anyway, and the erasure can simply be run again."""
    load_area_hooks()
    customer = session.get(
        Customer, customer_id, with_for_update=True, options=[selectinload(Customer.identities)]
    )
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    needles = _needles(customer)
    suppressed = sum(
        suppress(
            session=session,
            identity_type=str(identity.type),
            value=identity.value,
            secret_key=secret_key,
            reason="erasure",
        )
        for identity in customer.identities
    )
    counts: dict[str, int] = {
        name: eraser(session, customer_id, needles) for name, eraser in sorted(ERASERS.items())
    }
    if data_dir is not None:
        for name, file_eraser in sorted(FILE_ERASERS.items()):
            counts[f"files:{name}"] = file_eraser(data_dir, customer_id, needles)
    counts.update(_erase_own_tables(session, customer_id))
    counts["audit_entry"] = _scrub_audit(session, customer_id, needles)
    counts["identity"] = len(customer.identities)
    customer.identities.clear()
    customer.name = None
    customer.traits = {}
    customer.country = None
    customer.status = CustomerStatus.erased
    proof = ErasureProof(
        customer_id=customer_id, request_id=request_id, counts=counts, suppressed=suppressed
    )
    session.add(proof)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="customer.erase",
        entity_type="customer",
        entity_id=customer_id,
        after={"proof": proof.id},
    )
    return proof


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
    for model in (PreferenceVersion, Send, ContactDecision, PersonalLink, UnsubscribeList):
        result = session.execute(delete(model).where(model.customer_id == customer_id))
        counts[model.__tablename__] = result.rowcount  # type: ignore[attr-defined]
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
