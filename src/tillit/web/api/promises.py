"""The company's promises over HTTP: each with what was measured (kept share over the rolling
28 days with its interval, error budget, the count of broken instances), the broken instances
with their evidence, and defining and changing promises."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from tillit.audit.service import Actor
from tillit.i18n import LANGUAGES, negotiate
from tillit.promises import report
from tillit.promises.store import create_promise, ensure_catalogue, get_promise, update_promise
from tillit.promises.value import bind_indicator, value_report
from tillit.staff.scopes import PROMISES_READ, PROMISES_WRITE
from tillit.storage.base import utcnow
from tillit.web.deps import SessionDep, SettingsDep, require_scope

router = APIRouter(prefix="/promises", tags=["promises"])
Reader = Annotated[Actor, Depends(require_scope(PROMISES_READ))]
Writer = Annotated[Actor, Depends(require_scope(PROMISES_WRITE))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/problem+json": {}}} for code in (401, 403, 404, 409, 422)
}


class WeekOut(BaseModel):
    week: str
    good: int
    total: int
    low: float
    high: float


class PromiseOut(BaseModel):
    key: str
    kind: str
    text: str = Field(description="What the customer reads, in the language asked for")
    target: float = Field(description="The share of instances to keep, e.g. 0.99")
    segment_key: str | None
    active: bool
    kept_share: float | None = Field(description="Kept over the rolling window; null: none yet")
    kept_low: float
    kept_high: float = Field(description="The 95 % Wilson interval of the kept share")
    good: int
    total: int
    window_days: int
    budget_remaining: float | None = Field(
        description="What is left of the error budget: 1 untouched, 0 spent, below 0 overspent"
    )
    alerting: bool = Field(description="The budget burns too fast (multi-window burn rate)")
    broken: int = Field(description="Every broken instance recorded")
    measured_at: datetime | None
    weeks: list[WeekOut]


class BreachOut(BaseModel):
    id: int
    customer_id: int
    evidence_kind: str = Field(description="case, send, request, answer or consent")
    evidence_id: int
    started_at: datetime
    broke_at: datetime
    channel: str | None
    campaign: str | None = Field(description="The key of the campaign that planned the message")
    campaign_name: str | None = Field(description="The campaign's name")
    team: str | None = Field(
        description="For a case: whom it was assigned to, as staff wrote it (Tillit has no teams)"
    )
    source: str | None = Field(description="Topic, question, request kind or case rule")
    case_id: int | None = Field(description="The case the customer opened about it")


class PlaceOut(BaseModel):
    value: str | None = Field(description="The campaign key, team or channel; null: none")
    name: str | None = Field(description="A campaign's name")
    broken: int


class WhereOut(BaseModel):
    campaign: list[PlaceOut]
    team: list[PlaceOut]
    channel: list[PlaceOut]


class PromiseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64)
    kind: str = Field(description="first_reply, resolution, message_cap, quiet_hours, ...")
    parameters: dict[str, Any] = Field(default_factory=dict)
    target: float = Field(0.99, gt=0, le=1)
    texts: dict[str, str] = Field(default_factory=dict, description="Own text per language")
    segment_key: str | None = None


class PromiseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] | None = None
    target: float | None = Field(None, gt=0, le=1)
    texts: dict[str, str] | None = None
    segment_key: str | None = None
    active: bool | None = None


def _out(summary: report.Summary) -> PromiseOut:
    return PromiseOut.model_validate(report.as_json(summary))


def _summary(session: SessionDep, settings: SettingsDep, key: str, lang: str) -> PromiseOut:
    promise = get_promise(session=session, key=key)
    today = utcnow().date()
    return _out(report.summarise(session, promise, settings, lang, today))


Lang = Annotated[str | None, Query(description=f"One of {', '.join(LANGUAGES)}; default en")]


@router.get("", response_model=list[PromiseOut], responses=PROBLEMS)
def list_promises(
    session: SessionDep, settings: SettingsDep, _actor: Reader, lang: Lang = None
) -> list[PromiseOut]:
    """Every promise with its kept share and ``broken``, the count of its broken instances."""
    if ensure_catalogue(session=session, settings=settings):
        session.commit()
    language = negotiate(lang)
    return [
        _out(s) for s in report.summaries(session=session, settings=settings, language=language)
    ]


@router.get("/{key}", response_model=PromiseOut, responses=PROBLEMS)
def read_promise(
    key: str, session: SessionDep, settings: SettingsDep, _actor: Reader, lang: Lang = None
) -> PromiseOut:
    return _summary(session, settings, key, negotiate(lang))


@router.get("/{key}/breaches", response_model=list[BreachOut], responses=PROBLEMS)
def list_breaches(
    key: str,
    session: SessionDep,
    _actor: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[BreachOut]:
    """The latest broken instances, newest first, each with its evidence and where it broke."""
    get_promise(session=session, key=key)
    return [
        BreachOut.model_validate(b, from_attributes=True)
        for b in report.breaches(session=session, key=key, limit=limit)
    ]


@router.get("/{key}/where-broken", response_model=WhereOut, responses=PROBLEMS)
def where_broken(key: str, session: SessionDep, _actor: Reader) -> WhereOut:
    """Every broken instance counted per campaign, team and channel, most first."""
    get_promise(session=session, key=key)
    return WhereOut.model_validate(
        report.where_broken(session=session, key=key), from_attributes=True
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PromiseOut, responses=PROBLEMS)
def add_promise(
    data: PromiseCreate, session: SessionDep, settings: SettingsDep, actor: Writer
) -> PromiseOut:
    """Measured from the next jobs round."""
    ensure_catalogue(session=session, settings=settings)
    create_promise(session=session, actor=actor, **data.model_dump())
    session.commit()
    return _summary(session, settings, data.key, "en")


@router.patch("/{key}", response_model=PromiseOut, responses=PROBLEMS)
def change_promise(
    key: str, data: PromiseUpdate, session: SessionDep, settings: SettingsDep, actor: Writer
) -> PromiseOut:
    """Changes only the fields sent; measured again at the next jobs round."""
    update_promise(
        session=session, key=key, changes=data.model_dump(exclude_unset=True), actor=actor
    )
    session.commit()
    return _summary(session, settings, key, "en")


value_router = APIRouter(prefix="/value-exchange", tags=["promises"])


class ValueOut(BaseModel):
    purpose_key: str
    indicator: str | None = Field(description="relevant_share or sent_per_consent; null: none")
    label: str | None
    value: float | None = Field(description="Over the last 90 days; null: nothing to measure")


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(description="relevant_share or sent_per_consent")


@value_router.get("", response_model=list[ValueOut], responses=PROBLEMS)
def read_value_exchange(session: SessionDep, _actor: Reader) -> list[ValueOut]:
    """Per consent purpose: did we deliver the value we promised for the data?"""
    return [ValueOut.model_validate(v, from_attributes=True) for v in value_report(session=session)]


@value_router.put("/{purpose_key}", response_model=list[ValueOut], responses=PROBLEMS)
def bind_value_indicator(
    purpose_key: str, data: IndicatorIn, session: SessionDep, actor: Writer
) -> list[ValueOut]:
    bind_indicator(session=session, purpose_key=purpose_key, indicator=data.indicator, actor=actor)
    session.commit()
    return read_value_exchange(session, actor)
