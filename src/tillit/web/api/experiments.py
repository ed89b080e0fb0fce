"""Experiments over HTTP: a thin face on tillit.experiments.

- ``GET  /api/v1/experiments``                   every experiment, newest first
- ``POST /api/v1/experiments``                   draft one (scope ``experiments:draft``)
- ``GET  /api/v1/experiments/{key}``             one, with its exposures so far and the SRM check
- ``POST /api/v1/experiments/{key}/start``       start a draft (``experiments:run``)
- ``POST /api/v1/experiments/{key}/stop``        stop a running one, saying why (same scope)
- ``GET  /api/v1/experiments/{key}/results``     every metric per variant, the split and guardrails
- ``GET  /api/v1/experiments/{key}/results.csv`` the same comparisons as CSV
- ``POST /api/v1/experiments/{key}/assignments`` serve a variant and log the exposure
  (``experiments:assign``; web, apps, kiosks and chat), idempotent
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from tillit.analytics import reports
from tillit.audit.service import Actor
from tillit.customers.models import IdentityType
from tillit.customers.service import find_by_identity
from tillit.errors import NotFound
from tillit.experiments import assignment, results, service
from tillit.experiments.definitions import KEY_PATTERN, ExperimentDefinition
from tillit.experiments.models import Experiment
from tillit.staff.scopes import (
    EXPERIMENTS_ASSIGN,
    EXPERIMENTS_DRAFT,
    EXPERIMENTS_READ,
    EXPERIMENTS_RUN,
)
from tillit.storage.base import EntityId, utcnow
from tillit.web.deps import DefaultsDep, SessionDep, require_scope
from tillit.web.problems import PROBLEM

router = APIRouter(prefix="/experiments", tags=["experiments"])
Reader = Annotated[Actor, Depends(require_scope(EXPERIMENTS_READ))]
Drafter = Annotated[Actor, Depends(require_scope(EXPERIMENTS_DRAFT))]
Runner = Annotated[Actor, Depends(require_scope(EXPERIMENTS_RUN))]
Server = Annotated[Actor, Depends(require_scope(EXPERIMENTS_ASSIGN))]
ExperimentKey = Annotated[str, Path(pattern=KEY_PATTERN, description="The experiment's key")]
ERRORS: dict[int | str, dict[str, Any]] = {404: PROBLEM, 409: PROBLEM, 422: PROBLEM}


class VariantPublic(BaseModel):
    key: str
    weight: float
    description: str | None = None


class SplitPublic(BaseModel):
    """Who has been exposed so far, per person (the unit)."""

    units: dict[str, int] = Field(description="Persons per variant")
    mixed: int = Field(description="Persons served more than one variant, left out")
    srm_p_value: float = Field(description="Chi-square of the split against the weights")
    sample_ratio_mismatch: bool = Field(description="p < 0.001: the assignment looks broken")


class ExperimentPublic(BaseModel):
    key: str
    name: str
    hypothesis: str
    unit: str
    variants: list[VariantPublic]
    control: str
    segment: str | None
    primary_goal: str
    secondary_goals: list[str]
    guardrails: list[str]
    auto_stop: bool
    stop_on_decision: bool
    status: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    started_by: str | None
    stopped_at: datetime | None
    stopped_by: str | None
    stop_reason: str | None
    split: SplitPublic | None = Field(None, description="Only when one experiment is read")


class StopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why, for the record")


class IdentityRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: IdentityType
    value: str = Field(min_length=1, max_length=320)


class AssignmentRequest(BaseModel):
    """Who is being served: a customer id, or one of their identities (e.g. the user id the
    web shop knows). Exactly one."""

    model_config = ConfigDict(extra="forbid")

    customer_id: EntityId | None = None
    identity: IdentityRef | None = None

    @model_validator(mode="after")
    def _one(self) -> AssignmentRequest:
        if (self.customer_id is None) == (self.identity is None):
            raise ValueError("give either customer_id or identity")
        return self


class AssignmentPublic(BaseModel):
    experiment: str
    customer_id: int = Field(description="The person (after any identity merge)")
    in_audience: bool = Field(
        description="False: outside the experiment's segment, not assigned (serve the default)"
    )
    variant: str | None = Field(description="None when not in the audience")
    exposed_at: datetime | None = Field(description="The person's first exposure")
    first: bool = Field(description="Whether this call logged the first exposure")


class PointPublic(BaseModel):
    variant: str
    day: date
    difference: float
    ci_low: float
    ci_high: float


class ResultsPublic(BaseModel):
    """An experiment's results on the analytics layer (as of the last lake round)."""

    experiment: str
    status: str
    days_running: int
    units: dict[str, int] = Field(description="Persons per variant in the analysis")
    mixed: int = Field(description="Persons served more than one variant, left out")
    outside_audience: int = Field(description="Persons outside the segment, not assigned")
    srm_p_value: float
    sample_ratio_mismatch: bool
    verdict: str = Field(description="The results in plain words")
    harmed: list[str] = Field(description="Guardrails showing harm, as 'metric:variant'")
    comparisons: list[dict[str, Any]] = Field(
        description="Per metric and variant: fixed-horizon, CUPED and always-valid values, "
        "with Holm's adjusted p-value and intervals (the CSV's columns)"
    )
    over_time: list[PointPublic] = Field(
        description="The primary metric's always-valid estimate by day of first exposure"
    )


def _analysed(request: Request, session: Session, key: str) -> results.Results:
    settings = request.app.state.settings
    experiment = service.get_experiment(session=session, key=key)
    keep = partial(reports.cached, settings)  # counted once per change of the data
    return results.analyse(session=session, experiment=experiment, now=utcnow(), keep=keep)


def _public(experiment: Experiment, split: SplitPublic | None = None) -> ExperimentPublic:
    return ExperimentPublic.model_validate({**service.snapshot(experiment), "split": split})


@router.get("", response_model=list[ExperimentPublic], summary="Every experiment, newest first")
def list_experiments(session: SessionDep, _actor: Reader) -> list[ExperimentPublic]:
    return [_public(e) for e in service.list_experiments(session=session)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ExperimentPublic,
    responses=ERRORS,
    summary="Draft an experiment",
)
def create_experiment(
    definition: ExperimentDefinition,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: Drafter,
) -> ExperimentPublic:
    experiment = service.create_experiment(session=session, definition=definition, actor=actor)
    session.commit()
    response.headers["Location"] = str(request.url_for("get_experiment", key=experiment.key))
    return _public(experiment)


@router.get(
    "/{key}",
    response_model=ExperimentPublic,
    responses=ERRORS,
    summary="One experiment, with its split so far",
)
def get_experiment(key: ExperimentKey, session: SessionDep, _actor: Reader) -> ExperimentPublic:
    experiment = service.get_experiment(session=session, key=key)
    units, check = assignment.split_check(session=session, key=key)
    split = SplitPublic(
        units={name: check.observed[name] for name in experiment.variant_keys},
        mixed=units.mixed,
        srm_p_value=check.p_value,
        sample_ratio_mismatch=check.mismatch,
    )
    return _public(experiment, split)


@router.get(
    "/{key}/results",
    response_model=ResultsPublic,
    responses=ERRORS,
    summary="Every metric per variant against the control, the split and the guardrails",
)
def get_results(
    key: ExperimentKey, request: Request, session: SessionDep, _actor: Reader
) -> ResultsPublic:
    found = _analysed(request, session, key)
    experiment = found.experiment
    return ResultsPublic(
        experiment=experiment.key,
        status=str(experiment.status),
        days_running=found.days_running,
        units=found.units,
        mixed=found.mixed,
        outside_audience=assignment.outside_audience(session, experiment),
        srm_p_value=found.split.p_value,
        sample_ratio_mismatch=found.split.mismatch,
        verdict=found.verdict,
        harmed=[f"{m.metric.key}:{v.variant}" for m, v in found.harmed],
        comparisons=results.flat_rows(found),
        over_time=[
            PointPublic(
                variant=row.variant,
                day=point.day,
                difference=point.difference,
                ci_low=point.ci_low,
                ci_high=point.ci_high,
            )
            for row in found.primary.variants
            for point in row.series
        ],
    )


@router.get(
    "/{key}/results.csv",
    responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
    summary="The comparisons as CSV (one row per metric and variant)",
)
def get_results_csv(
    key: ExperimentKey, request: Request, session: SessionDep, _actor: Reader
) -> Response:
    found = _analysed(request, session, key)
    return Response(
        results.csv_text(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="experiment-{key}.csv"'},
    )


@router.post(
    "/{key}/start", response_model=ExperimentPublic, responses=ERRORS, summary="Start a draft"
)
def start_experiment(key: ExperimentKey, session: SessionDep, actor: Runner) -> ExperimentPublic:
    experiment = service.start_experiment(session=session, key=key, actor=actor)
    session.commit()
    return _public(experiment)


@router.post(
    "/{key}/stop",
    response_model=ExperimentPublic,
    responses=ERRORS,
    summary="Stop a running experiment",
)
def stop_experiment(
    key: ExperimentKey, body: StopRequest, session: SessionDep, actor: Runner
) -> ExperimentPublic:
    experiment = service.stop_experiment(session=session, key=key, reason=body.reason, actor=actor)
    session.commit()
    return _public(experiment)


@router.post(
    "/{key}/assignments",
    response_model=AssignmentPublic,
    responses=ERRORS,
    summary="Serve a variant to a customer and log the exposure (idempotent)",
)
def assign_variant(
    key: ExperimentKey,
    body: AssignmentRequest,
    session: SessionDep,
    defaults: DefaultsDep,
    _actor: Server,
) -> AssignmentPublic:
    service.get_experiment(session=session, key=key)  # an unknown key is said before the rest
    customer_id = body.customer_id
    if body.identity is not None:
        customer = find_by_identity(
            session=session,
            identity_type=body.identity.type,
            value=body.identity.value,
            defaults=defaults,
        )
        if customer is None:
            raise NotFound(f"no customer has {body.identity.type} {body.identity.value}")
        customer_id = customer.id
    assert customer_id is not None  # the request holds one or the other
    served = assignment.assign(session=session, key=key, customer_id=customer_id, via="api")
    session.commit()
    return AssignmentPublic(
        experiment=served.experiment,
        customer_id=served.customer_id,
        in_audience=served.in_audience,
        variant=served.variant,
        exposed_at=served.exposed_at,
        first=served.first,
    )
