"""Customer service functions: create, read, update, search, and manage identities.

Every write takes an ``actor`` and leaves an audit entry in the same transaction.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tillit.audit.service import Actor, record
from tillit.customers.models import Customer, CustomerStatus, Identity, IdentityType
from tillit.customers.normalise import InvalidIdentity, normalise
from tillit.customers.schemas import CustomerCreate, CustomerUpdate, IdentityCreate
from tillit.customers.validation import (
    check_country,
    check_locale,
    check_text,
    check_time_zone,
    check_traits,
    check_traits_size,
)
from tillit.errors import Conflict, FieldError, InvalidInput, NotFound
from tillit.storage.base import ID_MAX
from tillit.storage.json import json_text_at


@dataclass(frozen=True)
class Defaults:
    """Installation-wide defaults for fields a caller may leave out."""

    country: str
    language: str
    time_zone: str


def snapshot(customer: Customer) -> dict[str, Any]:
    """What the audit log keeps of a customer before and after a change."""
    return {
        "name": customer.name,
        "locale": customer.locale,
        "time_zone": customer.time_zone,
        "country": customer.country,
        "traits": dict(customer.traits or {}),
        "status": str(customer.status),
    }


def create_customer(
    *, session: Session, data: CustomerCreate, defaults: Defaults, actor: Actor
) -> Customer:
    errors: list[FieldError] = []
    fields = _checked_fields(data.locale, data.time_zone, data.country, errors)
    _check_name_and_traits(data.name, data.traits, errors)
    identities = _normalised_identities(data.identities, defaults=defaults, errors=errors)
    if errors:
        raise InvalidInput(errors)
    _refuse_taken(session=session, identities=identities, field_prefix="identities")
    customer = Customer(
        name=data.name,
        locale=fields.get("locale") or defaults.language,
        time_zone=fields.get("time_zone") or defaults.time_zone,
        country=fields.get("country") or None,
        traits=data.traits,
        identities=[Identity(**item) for item in identities],
    )
    session.add(customer)
    _flush_or_conflict(session)
    record(
        session=session,
        actor=actor,
        action="customer.create",
        entity_type="customer",
        entity_id=customer.id,
        after={
            **snapshot(customer),
            "identities": [f"{i['type']}:{i['value']}" for i in identities],
        },
    )
    return customer


def find_customer(*, session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def get_customer(*, session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id, options=[selectinload(Customer.identities)])
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def update_customer(
    *, session: Session, customer_id: int, data: CustomerUpdate, actor: Actor
) -> Customer:
    customer = get_customer(session=session, customer_id=customer_id)
    errors: list[FieldError] = []
    fields = _checked_fields(data.locale, data.time_zone, data.country, errors)
    _check_name_and_traits(data.name, data.traits or {}, errors)
    if errors:
        raise InvalidInput(errors)
    before = snapshot(customer)
    sent = data.model_dump(exclude_unset=True)
    for key in ("name", "status"):
        if key in sent:
            setattr(customer, key, sent[key])
    for key, value in fields.items():
        setattr(customer, key, value)
    if data.traits is not None:
        merged = dict(customer.traits or {})
        for key, value in data.traits.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if too_big := check_traits_size(merged):  # the limit is on what the customer holds
            raise InvalidInput(too_big)
        customer.traits = merged
    after = snapshot(customer)
    if after != before:
        session.flush()
        record(
            session=session,
            actor=actor,
            action="customer.update",
            entity_type="customer",
            entity_id=customer.id,
            before=before,
            after=after,
        )
    return customer


def add_identity(
    *, session: Session, customer_id: int, data: IdentityCreate, defaults: Defaults, actor: Actor
) -> Identity:
    customer = get_customer(session=session, customer_id=customer_id)
    errors: list[FieldError] = []
    [item] = _normalised_identities([data], defaults=defaults, errors=errors, prefix="") or [{}]
    if errors:
        raise InvalidInput(errors)
    _refuse_taken(session=session, identities=[item], field_prefix="", owner=customer.id)
    existing = _find_identity(session, item["type"], item["value"])
    if existing is not None:  # already this customer's: adding it again changes nothing
        return existing
    identity = Identity(customer_id=customer.id, **item)
    session.add(identity)
    _flush_or_conflict(session)
    record(
        session=session,
        actor=actor,
        action="identity.add",
        entity_type="customer",
        entity_id=customer.id,
        after={"type": identity.type, "value": identity.value},
    )
    return identity


def remove_identity(*, session: Session, customer_id: int, identity_id: int, actor: Actor) -> None:
    identity = session.get(Identity, identity_id)
    if identity is None or identity.customer_id != customer_id:
        raise NotFound(f"customer {customer_id} has no identity {identity_id}")
    record(
        session=session,
        actor=actor,
        action="identity.remove",
        entity_type="customer",
        entity_id=customer_id,
        before={"type": identity.type, "value": identity.value},
    )
    session.delete(identity)
    session.flush()


def email_address(*, session: Session, customer_id: int) -> str | None:
    """The address to write to: a verified e-mail first, then the oldest."""
    return session.scalar(
        select(Identity.value)
        .where(Identity.customer_id == customer_id, Identity.type == IdentityType.email)
        .order_by(Identity.verified.desc(), Identity.id)
    )


def find_by_identity(
    *, session: Session, identity_type: str, value: str, defaults: Defaults
) -> Customer | None:
    if nul := check_text(value, "value"):
        raise InvalidInput(nul)
    try:
        normalised = normalise(identity_type, value, default_country=defaults.country)
    except (InvalidIdentity, ValueError):
        return None
    identity = _find_identity(session, IdentityType(identity_type), normalised)
    return (
        None
        if identity is None
        else get_customer(session=session, customer_id=identity.customer_id)
    )


def search_customers(
    *,
    session: Session,
    defaults: Defaults,
    query: str | None = None,
    identity: tuple[str, str] | None = None,
    traits: dict[str, str] | None = None,
    status: CustomerStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Customer], str | None]:
    """Newest first, ``limit`` at a time; the cursor is opaque to callers."""
    _check_search(query, identity, traits)
    statement: Select[Customer] = select(Customer).options(selectinload(Customer.identities))
    if query:
        dialect = session.get_bind().dialect.name
        below = _decode_cursor(cursor) if cursor else None
        found = _matches_text(query.strip(), defaults, dialect, below=below, wanted=limit + 1)
        statement = statement.where(found)
    if identity:
        identity_type, value = identity
        try:
            normalised = normalise(identity_type, value, default_country=defaults.country)
        except InvalidIdentity as error:
            raise InvalidInput(FieldError("identity", str(error))) from error
        statement = statement.where(
            Customer.id.in_(
                select(Identity.customer_id).where(
                    Identity.type == identity_type, Identity.value == normalised
                )
            )
        )
    for key, value in (traits or {}).items():  # the key is one literal key, never a path
        statement = statement.where(json_text_at(Customer.traits, key) == value)
    if status:
        statement = statement.where(Customer.status == status)
    if cursor:
        statement = statement.where(Customer.id < _decode_cursor(cursor))
    rows = list(session.scalars(statement.order_by(Customer.id.desc()).limit(limit + 1)))
    next_cursor = _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


# Shorter parts would match most addresses (and scan every e-mail identity for little use).
PART_OF_EMAIL_MIN = 3


def _matches_text(
    text: str, defaults: Defaults, dialect: str, *, below: int | None, wanted: int
) -> Any:
    """A search box: an exact identity (e-mail, phone), an identity's start, a customer id (each
    found through an index), or, from three characters on, part of an e-mail address or of a
    name. Bounded: each way of matching an identity gives only the ``wanted`` newest customers
    it finds (the page shows no more), walking the customer index from the newest, so a text
    most people match ("example.com") stops early, and only a rare one reads every row."""
    candidates = [text]
    for kind in (IdentityType.email, IdentityType.phone):
        with suppress(InvalidIdentity):  # not every search text is an e-mail or a phone
            candidates.append(normalise(kind, text, default_country=defaults.country))
    # Identities are stored normalised (e-mail in lower case), so a start is looked for as
    # typed and in lower case, each as a range of the value index.
    found_by: list[ColumnElement[bool]] = [Identity.value.in_(candidates)]
    found_by += [_starts_with(Identity.value, start, dialect) for start in {text, text.lower()}]
    if len(text) >= PART_OF_EMAIL_MIN:  # part of an address: "berg@", "example.com"
        # lower() keeps SQLite off the (type, value) index, which would read every e-mail
        # before sorting; walking the customer index instead stops at the newest ``wanted``.
        is_email = func.lower(Identity.type) == IdentityType.email.value
        found_by.append(and_(is_email, _contains(Identity.value, text, dialect)))
    conditions: list[Any] = []
    for condition in found_by:
        newest = select(Identity.customer_id).where(condition)
        if below is not None:
            newest = newest.where(Identity.customer_id < below)
        newest = newest.distinct().order_by(Identity.customer_id.desc()).limit(wanted)
        conditions.append(Customer.id.in_(newest))
    conditions.append(_contains(Customer.name, text, dialect))
    if text.isdecimal() and int(text) <= ID_MAX:  # a longer number is no id (nor bindable)
        conditions.append(Customer.id == int(text))
    return or_(*conditions)


def _starts_with(column: Any, start: str, dialect: str) -> ColumnElement[bool]:
    """Values that begin with ``start``, case as typed: on SQLite a range of the index (which
    orders by bytes: no UTF-8 sequence sorts above U+10FFFF's), elsewhere LIKE 'start%', which
    PostgreSQL answers from the index's pattern operators."""
    if dialect == "sqlite":
        return and_(column >= start, column < start + "\U0010ffff")
    return column.like(f"{_like_literal(start)}%", escape="\\")


def _contains(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive "contains": SQLite's LIKE already ignores case (lower() would fold the
    same ASCII letters again on every row), PostgreSQL's needs ILIKE."""
    pattern = f"%{_like_literal(text)}%"
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _like_literal(text: str) -> str:
    """``text`` matched as itself by LIKE: its wildcards (and the escape) escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_search(
    query: str | None, identity: tuple[str, str] | None, traits: dict[str, str] | None
) -> None:
    texts = [("q", query), ("identity", identity[1] if identity else None)]
    texts += [("trait", f"{key}={value}") for key, value in (traits or {}).items()]
    errors = [error for field, text in texts if (error := check_text(text, field))]
    if errors:
        raise InvalidInput(errors)


def _check_name_and_traits(
    name: str | None, traits: dict[str, Any], errors: list[FieldError]
) -> None:
    if nul := check_text(name, "name"):
        errors.append(nul)
    errors += check_traits(traits)


def _checked_fields(
    locale: str | None, time_zone: str | None, country: str | None, errors: list[FieldError]
) -> dict[str, str]:
    checks = {
        "locale": (locale, check_locale),
        "time_zone": (time_zone, check_time_zone),
        "country": (country, check_country),
    }
    fields: dict[str, str] = {}
    for name, (value, check) in checks.items():
        if value is None:
            continue
        result = check(value, name)
        if isinstance(result, FieldError):
            errors.append(result)
        else:
            fields[name] = result
    return fields


def _normalised_identities(
    identities: Sequence[IdentityCreate],
    *,
    defaults: Defaults,
    errors: list[FieldError],
    prefix: str = "identities",
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, identity in enumerate(identities):
        field = f"{prefix}[{index}].value" if prefix else "value"
        source_field = f"{prefix}[{index}].source" if prefix else "source"
        texts = [(identity.value, field), (identity.source, source_field)]
        if nul := [e for value, name in texts if (e := check_text(value, name))]:
            errors += nul
            continue
        try:
            value = normalise(identity.type, identity.value, default_country=defaults.country)
        except InvalidIdentity as error:
            errors.append(FieldError(field, f"{identity.type}: {error}"))
            continue
        if (identity.type, value) in seen:
            errors.append(FieldError(field, f"{identity.type} {value} is listed twice"))
            continue
        seen.add((identity.type, value))
        items.append(
            {
                "type": identity.type,
                "value": value,
                "verified": identity.verified,
                "source": identity.source,
            }
        )
    return items


def _refuse_taken(
    *,
    session: Session,
    identities: list[dict[str, Any]],
    field_prefix: str,
    owner: int | None = None,
) -> None:
    for index, item in enumerate(identities):
        existing = _find_identity(session, item["type"], item["value"])
        if existing is not None and existing.customer_id != owner:
            field = f"{field_prefix}[{index}].value" if field_prefix else "value"
            raise Conflict(
                f"{field}: {item['type']} {item['value']} already belongs to "
                f"customer {existing.customer_id}"
            )


def _find_identity(session: Session, identity_type: str, value: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(Identity.type == identity_type, Identity.value == value)
    )


def _flush_or_conflict(session: Session) -> None:
    # Two requests may race past _refuse_taken; the unique constraint settles it.
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise Conflict("an identity in this request already belongs to another customer") from error


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "id" or not 1 <= int(value) <= ID_MAX:  # only ids it gave out
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(FieldError("cursor", "is not a cursor this API gave out")) from error
