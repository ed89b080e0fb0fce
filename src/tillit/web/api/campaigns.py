"""Campaigns over HTTP: a thin face on tillit.campaigns.

- ``GET  /api/v1/campaigns``               every campaign with its ``funnel`` and ``held``
- ``POST /api/v1/campaigns``               draft one (scope ``campaigns:draft``)
- ``GET  /api/v1/campaigns/{key}``         one, with relevance against the blast
- ``PUT  /api/v1/campaigns/{key}``         replace a draft's definition (``campaigns:draft``)
- ``POST /api/v1/campaigns/{key}/approve`` approve a draft (``campaigns:approve``)
- ``POST /api/v1/campaigns/{key}/plan``    plan this round (same scope), idempotent per round
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, Field

from tillit.audit.service import Actor
from tillit.campaigns import service
from tillit.campaigns.definitions import KEY_PATTERN, CampaignDefinition
from tillit.campaigns.models import Campaign
from tillit.experiments.statistics import Comparison
from tillit.staff.scopes import CAMPAIGNS_APPROVE, CAMPAIGNS_DRAFT, CAMPAIGNS_READ
from tillit.web.deps import SessionDep, SettingsDep, require_scope
from tillit.web.problems import PROBLEM

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Reader = Annotated[Actor, Depends(require_scope(CAMPAIGNS_READ))]
Drafter = Annotated[Actor, Depends(require_scope(CAMPAIGNS_DRAFT))]
Approver = Annotated[Actor, Depends(require_scope(CAMPAIGNS_APPROVE))]
CampaignKey = Annotated[str, Path(pattern=KEY_PATTERN, description="The campaign's key")]
ERRORS: dict[int | str, dict[str, Any]] = {404: PROBLEM, 409: PROBLEM, 422: PROBLEM}


class ComparisonPublic(BaseModel):
    metric: str
    relevant: float = Field(description="Rate among the relevance group's allowed members")
    blast: float = Field(description="Rate among the blast slice's allowed members")
    difference: float
    ci_low: float
    ci_high: float
    p_value: float


class ResultsPublic(BaseModel):
    groups: dict[str, int] = Field(description="Allowed members per group")
    conversion: ComparisonPublic | None
    unsubscribes: ComparisonPublic | None
    verdict: str


class CampaignPublic(BaseModel):
    key: str
    name: str
    status: str
    definition: dict[str, Any]
    experiment: str | None
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    funnel: dict[str, int] = Field(
        description="audience, allowed, relevant, scheduled, sent, delivered, opened, clicked, "
        "goal_reached"
    )
    held: dict[str, int] = Field(description="Members held back, by reason")
    results: ResultsPublic | None = Field(None, description="Only when one campaign is read")


class PlanPublic(BaseModel):
    campaign: str
    occurrence: str
    audience: int
    allowed: int
    relevant: int
    scheduled: int
    held: dict[str, int]
    already: bool = Field(description="This round had been planned before; nothing new")


def _comparison(found: Comparison | None) -> ComparisonPublic | None:
    if found is None:
        return None
    return ComparisonPublic(
        metric=found.metric,
        relevant=found.mean_variant,
        blast=found.mean_control,
        difference=found.difference,
        ci_low=found.ci_low,
        ci_high=found.ci_high,
        p_value=found.p_value,
    )


def _public(
    session: Any,
    campaign: Campaign,
    *,
    with_results: bool = False,
    funnel: service.Funnel | None = None,
) -> CampaignPublic:
    funnel = funnel or service.funnel(session=session, campaign=campaign)
    results = None
    if with_results:
        found = service.results(session=session, campaign=campaign)
        if found is not None:
            results = ResultsPublic(
                groups=found.groups,
                conversion=_comparison(found.conversion),
                unsubscribes=_comparison(found.unsubscribes),
                verdict=found.verdict,
            )
    return CampaignPublic(
        key=campaign.key,
        name=campaign.name,
        status=str(campaign.status),
        definition=campaign.definition,
        experiment=campaign.experiment_key,
        created_by=campaign.created_by,
        created_at=campaign.created_at,
        approved_by=campaign.approved_by,
        approved_at=campaign.approved_at,
        funnel=funnel.steps,
        held=funnel.held,
        results=results,
    )


@router.get("", response_model=list[CampaignPublic], summary="Every campaign, with its funnel")
def list_campaigns(session: SessionDep, _actor: Reader) -> list[CampaignPublic]:
    campaigns = service.list_campaigns(session=session)
    found = service.funnels(session=session, campaigns=campaigns)
    return [_public(session, c, funnel=f) for c, f in zip(campaigns, found, strict=True)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignPublic,
    responses=ERRORS,
    summary="Draft a campaign",
)
def create_campaign(
    definition: CampaignDefinition,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: Drafter,
) -> CampaignPublic:
    campaign = service.create_campaign(session=session, definition=definition, actor=actor)
    session.commit()
    response.headers["Location"] = str(request.url_for("get_campaign", key=campaign.key))
    return _public(session, campaign)


@router.get(
    "/{key}",
    response_model=CampaignPublic,
    responses=ERRORS,
    summary="One campaign, with relevance against the blast",
)
def get_campaign(key: CampaignKey, session: SessionDep, _actor: Reader) -> CampaignPublic:
    campaign = service.get_campaign(session=session, key=key)
    return _public(session, campaign, with_results=True)


@router.put(
    "/{key}",
    response_model=CampaignPublic,
    responses=ERRORS,
    summary="Replace a draft's definition (an approved campaign does not change)",
)
def update_campaign(
    key: CampaignKey, definition: CampaignDefinition, session: SessionDep, actor: Drafter
) -> CampaignPublic:
    campaign = service.update_campaign(session=session, key=key, definition=definition, actor=actor)
    session.commit()
    return _public(session, campaign)


@router.post(
    "/{key}/approve", response_model=CampaignPublic, responses=ERRORS, summary="Approve a draft"
)
def approve_campaign(key: CampaignKey, session: SessionDep, actor: Approver) -> CampaignPublic:
    campaign = service.approve_campaign(session=session, key=key, actor=actor)
    session.commit()
    return _public(session, campaign)


@router.post(
    "/{key}/plan",
    response_model=PlanPublic,
    responses=ERRORS,
    summary="Plan this round for the audience (idempotent per round)",
)
def plan_campaign(
    key: CampaignKey, session: SessionDep, settings: SettingsDep, actor: Approver
) -> PlanPublic:
    report = service.plan_campaign(session=session, settings=settings, key=key, actor=actor)
    session.commit()
    return PlanPublic(**report.__dict__)
