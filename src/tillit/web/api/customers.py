"""Customers and identities over HTTP: a thin face on tillit.customers.service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tillit.audit.service import Actor
from tillit.customers import service
from tillit.customers.models import CustomerStatus, IdentityType
from tillit.customers.schemas import (
    CustomerCreate,
    CustomerPage,
    CustomerPublic,
    CustomerUpdate,
    IdentityCreate,
    IdentityPublic,
)
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.staff.scopes import CUSTOMERS_READ, CUSTOMERS_WRITE
from tillit.storage.base import EntityId
from tillit.web.deps import DefaultsDep, SessionDep, require_scope

router = APIRouter(tags=["customers"])
Reader = Annotated[Actor, Depends(require_scope(CUSTOMERS_READ))]
Writer = Annotated[Actor, Depends(require_scope(CUSTOMERS_WRITE))]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: PROBLEM,
    403: PROBLEM,
    404: PROBLEM,
    409: PROBLEM,
    422: PROBLEM,
}


@router.post(
    "/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerPublic,
    responses=WRITE_ERRORS,
    summary="Create a customer with identities",
)
def create_customer(
    data: CustomerCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    defaults: DefaultsDep,
    actor: Writer,
) -> CustomerPublic:
    customer = service.create_customer(session=session, data=data, defaults=defaults, actor=actor)
    session.commit()
    response.headers["Location"] = str(request.url_for("get_customer", customer_id=customer.id))
    return CustomerPublic.model_validate(customer)


@router.get("/customers", response_model=CustomerPage, summary="Search and page through customers")
def list_customers(
    session: SessionDep,
    defaults: DefaultsDep,
    _actor: Reader,
    q: Annotated[str | None, Query(description="Name, e-mail, phone or identity prefix")] = None,
    identity: Annotated[
        str | None, Query(description="type:value, e.g. email:anna@example.com")
    ] = None,
    trait: Annotated[list[str] | None, Query(description="key=value; repeat to combine")] = None,
    status_: Annotated[CustomerStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CustomerPage:
    rows, next_cursor = service.search_customers(
        session=session,
        defaults=defaults,
        query=q,
        identity=_identity_filter(identity),
        traits=_trait_filters(trait or []),
        status=status_,
        cursor=cursor,
        limit=limit,
    )
    return CustomerPage(
        items=[CustomerPublic.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/customers/{customer_id}", response_model=CustomerPublic, responses={404: PROBLEM})
def get_customer(customer_id: EntityId, session: SessionDep, _actor: Reader) -> CustomerPublic:
    return CustomerPublic.model_validate(
        service.get_customer(session=session, customer_id=customer_id)
    )


@router.patch("/customers/{customer_id}", response_model=CustomerPublic, responses=WRITE_ERRORS)
def update_customer(
    customer_id: EntityId, data: CustomerUpdate, session: SessionDep, actor: Writer
) -> CustomerPublic:
    customer = service.update_customer(
        session=session, customer_id=customer_id, data=data, actor=actor
    )
    session.commit()
    return CustomerPublic.model_validate(customer)


@router.post(
    "/customers/{customer_id}/identities",
    status_code=status.HTTP_201_CREATED,
    response_model=IdentityPublic,
    responses=WRITE_ERRORS,
)
def add_identity(
    customer_id: EntityId,
    data: IdentityCreate,
    session: SessionDep,
    defaults: DefaultsDep,
    actor: Writer,
) -> IdentityPublic:
    identity = service.add_identity(
        session=session, customer_id=customer_id, data=data, defaults=defaults, actor=actor
    )
    session.commit()
    return IdentityPublic.model_validate(identity)


@router.delete(
    "/customers/{customer_id}/identities/{identity_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
def remove_identity(
    customer_id: EntityId, identity_id: EntityId, session: SessionDep, actor: Writer
) -> Response:
    service.remove_identity(
        session=session, customer_id=customer_id, identity_id=identity_id, actor=actor
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/identities/{identity_type}/{value}",
    response_model=CustomerPublic,
    responses={404: PROBLEM},
    summary="The customer an identity belongs to",
)
def customer_by_identity(
    identity_type: IdentityType,
    value: str,
    session: SessionDep,
    defaults: DefaultsDep,
    _actor: Reader,
) -> CustomerPublic:

    customer = service.find_by_identity(
        session=session, identity_type=identity_type, value=value, defaults=defaults
    )
    if customer is None:
        raise NotFound(f"no customer has {identity_type} {value}")
    return CustomerPublic.model_validate(customer)


def _identity_filter(raw: str | None) -> tuple[str, str] | None:
    if raw is None:
        return None
    kind, sep, value = raw.partition(":")
    if not sep or kind not in set(IdentityType):
        raise InvalidInput(
            FieldError("identity", f"use type:value with type one of {', '.join(IdentityType)}")
        )
    return kind, value


def _trait_filters(raw: list[str]) -> dict[str, str]:
    filters = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(FieldError("trait", f"{item!r}: use key=value"))
        filters[key] = value
    return filters
