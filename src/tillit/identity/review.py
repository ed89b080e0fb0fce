"""The staff review queue of match suggestions: both profiles side by side, which matching
fields agree, and the decision with an audit entry (accepting merges, via ``suggestions``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.models import Customer, Identity, IdentityType
from tillit.identity import suggestions
from tillit.identity.matching import FIELDS
from tillit.identity.models import MatchSuggestion


@dataclass(frozen=True)
class Comparison:
    field: str
    left: str | None
    right: str | None

    @property
    def verdict(self) -> str:
        """agree, differ, or missing (one side or both have no value)."""
        if self.left is None or self.right is None:
            return "missing"
        return "agree" if self.left.casefold() == self.right.casefold() else "differ"


@dataclass(frozen=True)
class Candidate:
    suggestion: MatchSuggestion
    left: Customer
    right: Customer
    comparisons: list[Comparison]


def queue(*, session: Session, limit: int = 50) -> list[Candidate]:
    """Open suggestions, most probable first, with the fields the matcher compared."""
    open_ = suggestions.open_suggestions(session=session, limit=limit)
    ids = {i for s in open_ for i in (s.left_customer_id, s.right_customer_id)}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    phones: dict[int, str] = {}
    for customer_id, value in session.execute(
        select(Identity.customer_id, Identity.value)
        .where(Identity.customer_id.in_(ids), Identity.type == IdentityType.phone)
        .order_by(Identity.value)
    ):
        phones.setdefault(customer_id, value)
    candidates = []
    for s in open_:
        left, right = customers[s.left_customer_id], customers[s.right_customer_id]
        a = suggestions._record(left, phones.get(left.id))
        b = suggestions._record(right, phones.get(right.id))
        compared = [Comparison(f, a[f], b[f]) for f in FIELDS]
        candidates.append(Candidate(s, left, right, compared))
    return candidates


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
