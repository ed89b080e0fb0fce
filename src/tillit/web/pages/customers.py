"""Staff pages for customers: the searchable list and one customer's profile."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from tillit.audit.service import entries_for, record
from tillit.consent import link_mail, links
from tillit.customers import service
from tillit.customers.models import IdentityType
from tillit.customers.schemas import CustomerUpdate, IdentityCreate
from tillit.errors import InvalidInput, invalid_fields
from tillit.mail import smtp
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.web.deps import DefaultsDep, SessionDep, SettingsDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
PAGE_SIZE = 25
Model = TypeVar("Model", bound=BaseModel)


@router.get(
    "/customers", response_class=HTMLResponse, dependencies=[allow(Permission.customers_read)]
)
def customer_list(
    request: Request,
    session: SessionDep,
    defaults: DefaultsDep,
    q: str = "",
    cursor: str | None = None,
) -> HTMLResponse:
    rows, next_cursor = service.search_customers(
        session=session, defaults=defaults, query=q or None, cursor=cursor, limit=PAGE_SIZE
    )
    return render(
        request, "customers/list.html", customers=rows, q=q, next_cursor=next_cursor, cursor=cursor
    )


@router.get(
    "/customers/{customer_id}",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.customers_read)],
)
def customer_detail(
    customer_id: EntityId,
    request: Request,
    session: SessionDep,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    customer = service.get_customer(session=session, customer_id=customer_id)
    audit = entries_for(session=session, entity_type="customer", entity_id=customer.id)
    return render(
        request,
        "customers/detail.html",
        customer=customer,
        audit=audit,
        identity_types=list(IdentityType),
        error=error,
        notice=notice,
    )


@router.post("/customers/{customer_id}", dependencies=[allow(Permission.customers_edit)])
def customer_update(
    customer_id: EntityId,
    session: SessionDep,
    actor: FormActorDep,
    request: Request,
    name: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "",
    time_zone: Annotated[str, Form()] = "",
) -> Response:
    sent = {"name": name.strip() or None, "locale": locale.strip(), "time_zone": time_zone.strip()}
    try:
        # The API's own schema, so the form refuses what the API refuses (a 201-character
        # name, say) and says why, instead of failing. An empty locale or zone keeps the old.
        data = _form_data(CustomerUpdate, {k: v for k, v in sent.items() if v != ""})
        service.update_customer(session=session, customer_id=customer_id, data=data, actor=actor)
    except InvalidInput as error:
        session.rollback()
        return _detail_with_error(request, session, customer_id, error.detail)
    session.commit()
    return RedirectResponse(f"/staff/customers/{customer_id}", status_code=303)


@router.post("/customers/{customer_id}/identities", dependencies=[allow(Permission.customers_edit)])
def identity_add(
    customer_id: EntityId,
    session: SessionDep,
    defaults: DefaultsDep,
    actor: FormActorDep,
    request: Request,
    type: Annotated[IdentityType, Form()],
    value: Annotated[str, Form()],
) -> Response:
    from tillit.errors import Conflict

    try:
        service.add_identity(
            session=session,
            customer_id=customer_id,
            defaults=defaults,
            actor=actor,
            data=_form_data(IdentityCreate, {"type": type, "value": value, "source": "staff"}),
        )
    except (InvalidInput, Conflict) as error:
        session.rollback()
        return _detail_with_error(request, session, customer_id, error.detail)
    session.commit()
    return RedirectResponse(f"/staff/customers/{customer_id}", status_code=303)


def _form_data(schema: type[Model], fields: dict[str, Any]) -> Model:
    try:
        return schema.model_validate(fields)
    except ValidationError as error:
        raise invalid_fields(error.errors()) from error


def _detail_with_error(
    request: Request, session: SessionDep, customer_id: int, message: str
) -> Response:
    customer = service.get_customer(session=session, customer_id=customer_id)
    audit = entries_for(session=session, entity_type="customer", entity_id=customer.id)
    return render(
        request,
        "customers/detail.html",
        status_code=422,
        customer=customer,
        audit=audit,
        identity_types=list(IdentityType),
        error=message,
    )


@router.post(
    "/customers/{customer_id}/preference-centre",
    dependencies=[allow(Permission.customers_edit)],
)
def open_preference_centre(
    customer_id: EntityId, session: SessionDep, settings: SettingsDep, actor: FormActorDep
) -> Response:
    """The customer's own preference centre, through a link that lasts a day, for a staff member
    helping them (on the phone, say); audited, and the page says that staff are viewing."""
    issued = links.create_link(
        session=session,
        customer_id=customer_id,
        secret_key=settings.secret_key,
        actor=actor,
        days=1,
    )
    record(
        session=session,
        actor=actor,
        action="customer.preference_centre_opened",
        entity_type="customer",
        entity_id=customer_id,
    )
    session.commit()
    return RedirectResponse(f"/p/{issued.token}", status_code=303)


@router.post("/customers/{customer_id}/send-link", dependencies=[allow(Permission.customers_edit)])
def send_their_link(
    customer_id: EntityId, session: SessionDep, settings: SettingsDep, actor: FormActorDep
) -> Response:
    """E-mail the customer their own preference-centre link (a service message, through the
    contact policy); the page then says whether it went, or why not."""
    service.get_customer(session=session, customer_id=customer_id)  # 404 for an unknown id
    try:
        outcome = link_mail.send_link(
            session=session,
            settings=settings,
            customer_id=customer_id,
            actor=actor,
            deliver=smtp(settings),
        )
    except OSError as error:  # the SMTP server refused or could not be reached: nothing kept
        session.rollback()
        return _back_to(customer_id, error=f"The e-mail could not be sent ({error}). Try later.")
    session.commit()
    if outcome.sent:
        return _back_to(customer_id, notice="Their link is on its way by e-mail.")
    why = outcome.why_not or "the contact policy said no"
    return _back_to(customer_id, error=f"Not sent: {why}.")


def _back_to(customer_id: int, **message: str) -> Response:
    return RedirectResponse(f"/staff/customers/{customer_id}?{urlencode(message)}", status_code=303)
