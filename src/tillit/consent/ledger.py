"""The consent ledger: append-only, hash-chained per customer, current state derived.

Each record's hash covers its content and the previous record's hash, so changing, removing
or reordering any record breaks every hash after it; ``verify_chain`` names the first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.consent.evidence import Evidence, evidence_digest
from tillit.consent.models import ConsentDecision, ConsentRecord, Method, Purpose
from tillit.consent.notices import current_notice, get_purpose
from tillit.customers.models import Customer, CustomerStatus
from tillit.errors import Conflict, NotFound
from tillit.storage.base import utcnow

GENESIS = "0" * 64


def content_hash(entry: ConsentRecord) -> str:
    """The hash of a record's content and its predecessor's hash (canonical JSON)."""
    content = {
        "customer_id": entry.customer_id,
        "sequence": entry.sequence,
        "purpose": entry.purpose_key,
        "notice_id": entry.notice_id,
        "notice_version": entry.notice_version,
        "decision": str(entry.decision),
        "method": str(entry.method),
        "channel": entry.channel,
        "gpc": bool(entry.gpc),
        "evidence": entry.evidence_hash,
        "recorded_at": _instant(entry.recorded_at),
        "previous": entry.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _instant(value: datetime) -> str:
    # Microseconds survive SQLite and PostgreSQL alike; the offset is always UTC.
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_consent(
    *,
    session: Session,
    customer_id: int,
    purpose_key: str,
    decision: ConsentDecision,
    method: Method,
    actor: Actor,
    channel: str | None = None,
    evidence: Evidence | None = None,
    language: str | None = None,
    at: datetime | None = None,
) -> ConsentRecord:
    """Append a decision to the customer's chain, pointing at the notice version they saw."""
    evidence = evidence or Evidence()
    # Lock the customer row so two writers cannot both extend the chain from the same tip.
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    if customer.status == CustomerStatus.erased:
        raise Conflict(f"customer {customer_id} has been erased")
    purpose = get_purpose(session=session, key=purpose_key)
    notice = current_notice(
        session=session, purpose=purpose, language=language or customer.language
    )
    tip = _tip(session, customer_id)
    shown = evidence.shown_text_hash or (notice.text_hash if notice else None)
    entry = ConsentRecord(
        customer_id=customer_id,
        sequence=(tip.sequence + 1) if tip else 1,
        purpose_key=purpose.key,
        notice_id=notice.id if notice else None,
        notice_version=notice.version if notice else None,
        decision=decision,
        method=method,
        channel=channel,
        shown_text_hash=shown,
        ip_prefix=evidence.ip_prefix,
        user_agent=evidence.short_user_agent,
        gpc=evidence.gpc,
        evidence_hash=evidence_digest(
            shown_text_hash=shown,
            ip_prefix=evidence.ip_prefix,
            user_agent=evidence.short_user_agent,
        ),
        recorded_at=(at or utcnow()),
        previous_hash=tip.record_hash if tip else GENESIS,
    )
    entry.record_hash = content_hash(entry)
    session.add(entry)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="consent.record",
        entity_type="customer",
        entity_id=customer_id,
        after={
            "purpose": purpose.key,
            "decision": str(decision),
            "method": str(method),
            "record": entry.id,
        },
    )
    return entry


def _tip(session: Session, customer_id: int) -> ConsentRecord | None:
    return session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer_id)
        .order_by(ConsentRecord.sequence.desc())
        .limit(1)
    )


def record_with_purpose(
    *, session: Session, record_id: int
) -> tuple[ConsentRecord, Purpose] | None:
    """One consent record and the purpose it is about (what a receipt shows), or None."""
    entry = session.get(ConsentRecord, record_id)
    if entry is None:
        return None
    return entry, get_purpose(session=session, key=entry.purpose_key)


def history(*, session: Session, customer_id: int) -> list[ConsentRecord]:
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.sequence)
        )
    )


def current_consents(*, session: Session, customer_id: int) -> dict[str, ConsentRecord]:
    """The latest record per purpose: derived from the ledger, never stored separately."""
    latest: dict[str, ConsentRecord] = {}
    for entry in history(session=session, customer_id=customer_id):
        latest[entry.purpose_key] = entry
    return latest


@dataclass(frozen=True)
class ChainBreak:
    customer_id: int
    record_id: int
    sequence: int
    reason: str

    def __str__(self) -> str:
        return (
            f"customer {self.customer_id}: record {self.record_id} (#{self.sequence}) {self.reason}"
        )


def verify_chain(*, session: Session, customer_id: int) -> ChainBreak | None:
    """The first record whose hash, link or evidence does not add up; None when all do."""
    customer = session.get(Customer, customer_id)
    erased = customer is None or customer.status == CustomerStatus.erased
    previous = GENESIS
    for expected_sequence, entry in enumerate(history(session=session, customer_id=customer_id), 1):
        problem = None
        if entry.sequence != expected_sequence:
            problem = f"is out of sequence (expected #{expected_sequence}): a record is missing"
        elif entry.previous_hash != previous:
            problem = "does not link to the record before it"
        elif content_hash(entry) != entry.record_hash:
            problem = "has been altered: its hash does not match its content"
        elif not erased and entry.evidence_hash != evidence_digest(
            shown_text_hash=entry.shown_text_hash,
            ip_prefix=entry.ip_prefix,
            user_agent=entry.user_agent,
        ):
            problem = "has altered evidence"
        if problem:
            return ChainBreak(customer_id, entry.id, entry.sequence, problem)
        previous = entry.record_hash
    return None


def verify_all(*, session: Session) -> tuple[int, list[ChainBreak]]:
    """Check every customer's chain: how many chains, and the first break in each broken one."""
    customers = list(
        session.scalars(
            select(ConsentRecord.customer_id)
            .group_by(ConsentRecord.customer_id)
            .order_by(ConsentRecord.customer_id)
        )
    )
    breaks = [
        found
        for customer_id in customers
        if (found := verify_chain(session=session, customer_id=customer_id))
    ]
    return len(customers), breaks
