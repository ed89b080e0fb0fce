"""Match suggestions over HTTP: the pairs probabilistic matching found, with their evidence."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from tillit.audit.service import Actor
from tillit.identity import review
from tillit.identity.models import MatchSuggestion
from tillit.identity.suggestions import SuggestionFilter, count_suggestions, list_suggestions
from tillit.staff.scopes import MATCHES_DECIDE, MATCHES_READ
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, require_scope

router = APIRouter(prefix="/match-suggestions", tags=["matching"])
Reader = Annotated[Actor, Depends(require_scope(MATCHES_READ))]
Decider = Annotated[Actor, Depends(require_scope(MATCHES_DECIDE))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 422)
}
DECISION_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 404, 409, 422)
}


class FieldEvidence(BaseModel):
    level: str = Field(description="The comparison level the pair reached, in Splink's words")
    verdict: Literal["agree", "close", "differ", "missing"]
    weight: float = Field(description="Match weight (log2 Bayes factor); > 0 speaks for")


class SuggestionPublic(BaseModel):
    id: int
    left_customer_id: int
    right_customer_id: int
    probability: float
    status: Literal["open", "auto", "accepted", "rejected"]
    merge_id: int | None
    evidence: dict[str, FieldEvidence] = Field(description="Per compared field")


class Decisions(BaseModel):
    suggestion_ids: list[EntityId] = Field(min_length=1, max_length=1000)
    decision: Literal["accept", "reject"]


class SuggestionPage(BaseModel):
    total: int
    items: list[SuggestionPublic]


@router.get("", response_model=SuggestionPage, responses=PROBLEMS)
def suggestions(
    session: SessionDep,
    _actor: Reader,
    status: Literal["open", "auto", "accepted", "rejected", "all"] = "open",
    min_probability: Annotated[float, Query(ge=0, le=1)] = 0.0,
    customer_id: EntityId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SuggestionPage:
    """Most probable first; ``offset`` and ``limit`` page through them."""
    where = SuggestionFilter(
        status=None if status == "all" else status,
        min_probability=min_probability,
        customer_id=customer_id,
    )
    return SuggestionPage(
        total=count_suggestions(session=session, where=where),
        items=[
            _public(s)
            for s in list_suggestions(session=session, where=where, limit=limit, offset=offset)
        ],
    )


@router.post("/decisions", response_model=list[SuggestionPublic], responses=DECISION_PROBLEMS)
def decide(body: Decisions, session: SessionDep, actor: Decider) -> list[SuggestionPublic]:
    """Accept (merge) or reject open suggestions, all or none, each audited. A side merged
    away since the suggestion was made is followed to the profile that holds it now; a pair
    already in one profile is accepted with no merge (``merge_id`` null)."""
    decided = review.decide_many(
        session=session,
        suggestion_ids=body.suggestion_ids,
        accept=body.decision == "accept",
        actor=actor,
    )
    session.commit()
    return [_public(s) for s in decided]


def _public(s: MatchSuggestion) -> SuggestionPublic:
    return SuggestionPublic(
        id=s.id,
        left_customer_id=s.left_customer_id,
        right_customer_id=s.right_customer_id,
        probability=s.probability,
        status=s.status,
        merge_id=s.merge_id,
        evidence=s.evidence or {},
    )
