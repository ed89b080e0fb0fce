"""The staff review queue of match suggestions: both profiles side by side, which matching
fields agree, and the decision with an audit entry (accepting merges, via ``suggestions``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.models import Customer, Identity
from tillit.errors import Conflict, NotFound
from tillit.identity import suggestions
from tillit.identity.comparisons import MatchField, read_value
from tillit.identity.merge import current_holder
from tillit.identity.models import MatchSuggestion


@dataclass(frozen=True)
class Comparison:
    field: str
    left: str | None
    right: str | None
    evidence: dict[str, Any] | None = None  # as matching found it: verdict, level, weight

    @property
    def verdict(self) -> str:
        """agree, close, differ, or missing (one side or both have no value)."""
        if self.evidence:
            return str(self.evidence.get("verdict", "missing"))
        if self.left is None or self.right is None:
            return "missing"
        return "agree" if self.left.casefold() == self.right.casefold() else "differ"


@dataclass(frozen=True)
class Candidate:
    suggestion: MatchSuggestion
    left: Customer
    right: Customer
    comparisons: list[Comparison]
    # Where a side was merged away since: the profile holding it now (accepting merges that).
    left_now: int | None = None
    right_now: int | None = None


def queue(
    *,
    session: Session,
    fields: Sequence[MatchField],
    where: suggestions.SuggestionFilter = suggestions.SuggestionFilter(),
    limit: int = 50,
    offset: int = 0,
) -> list[Candidate]:
    """Suggestions, most probable first, with the values of the fields the matcher compared
    as the profiles hold them now and the evidence matching found."""
    found = suggestions.list_suggestions(session=session, where=where, limit=limit, offset=offset)
    ids = {i for s in found for i in (s.left_customer_id, s.right_customer_id)}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    kinds = sorted({f.identity for f in fields if f.identity})
    held: dict[int, dict[str, str]] = {}
    for customer_id, kind, value in session.execute(
        select(Identity.customer_id, Identity.type, Identity.value)
        .where(Identity.customer_id.in_(ids), Identity.type.in_(kinds))
        .order_by(Identity.value)
    ):
        held.setdefault(customer_id, {}).setdefault(str(kind), value)
    candidates = []
    for s in found:
        left, right = customers[s.left_customer_id], customers[s.right_customer_id]
        evidence = s.evidence or {}
        shown = [f for f in fields if not evidence or f.name in evidence]
        compared = [
            Comparison(
                f.name,
                _shown(read_value(f, left.traits or {}, held.get(left.id, {}))),
                _shown(read_value(f, right.traits or {}, held.get(right.id, {}))),
                evidence.get(f.name),
            )
            for f in shown
        ]
        left_now, right_now = (
            holder
            if (holder := current_holder(session=session, customer_id=side.id)) != side.id
            else None
            for side in (left, right)
        )
        candidates.append(Candidate(s, left, right, compared, left_now, right_now))
    return candidates


def _shown(value: object) -> str | None:
    return None if value is None else str(value)


def automatic(*, session: Session, limit: int = 50) -> list[MatchSuggestion]:
    """Pairs merged without review, newest first, so staff can check and undo them."""
    return list(
        session.scalars(
            select(MatchSuggestion)
            .where(MatchSuggestion.status == "auto")
            .order_by(MatchSuggestion.id.desc())
            .limit(limit)
        )
    )


def decide_many(
    *, session: Session, suggestion_ids: Sequence[int], accept: bool, actor: Actor
) -> list[MatchSuggestion]:
    """``decide`` for each, all or none: if one does not exist or was already decided, nothing
    changes (Conflict or NotFound names it)."""
    wanted = list(dict.fromkeys(suggestion_ids))
    found = {
        s.id: s
        for s in session.scalars(select(MatchSuggestion).where(MatchSuggestion.id.in_(wanted)))
    }
    if missing := [i for i in wanted if i not in found]:
        raise NotFound(f"match suggestion {missing[0]} does not exist")
    if decided := [i for i in wanted if found[i].status != "open"]:
        raise Conflict(f"match suggestion {decided[0]} was already {found[decided[0]].status}")
    return [decide(session=session, suggestion_id=i, accept=accept, actor=actor) for i in wanted]


def decide(*, session: Session, suggestion_id: int, accept: bool, actor: Actor) -> MatchSuggestion:
    """Accept (merge, audited as customer.merge too) or reject, with a match.* audit entry."""
    decided = suggestions.decide(
        session=session, suggestion_id=suggestion_id, accept=accept, actor=actor
    )
    session.flush()
    record(
        session=session,
        actor=actor,
        action="match.accept" if accept else "match.reject",
        entity_type="match_suggestion",
        entity_id=decided.id,
        after={
            "left": decided.left_customer_id,
            "right": decided.right_customer_id,
            "probability": decided.probability,
            "merge_id": decided.merge_id,
        },
    )
    return decided
