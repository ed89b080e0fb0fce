"""Personal links into the preference centre: signed, expiring and revocable.

A token is ``<link id>.<random secret>``. Only an HMAC of the whole token (keyed with the
workspace secret) is stored, so neither a database copy nor a guess yields a working link,
and the id lets staff revoke one link without touching the others.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record, record_many
from tillit.consent.models import PersonalLink
from tillit.customers.models import Customer, CustomerStatus
from tillit.errors import Conflict, NotFound, TillitError
from tillit.storage.base import utcnow

DEFAULT_DAYS = 30


class LinkGone(TillitError):
    """The link is unknown, expired or revoked; the page says so in plain words."""

    title = "Link no longer valid"
    slug = "link-gone"


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: its token exists only here (the database keeps its hash)."""

    id: int
    expires_at: datetime
    token: str

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/p/{self.token}"


def _mac(secret_key: str, message: str) -> str:
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def create_link(
    *,
    session: Session,
    customer_id: int,
    secret_key: str,
    actor: Actor,
    days: int = DEFAULT_DAYS,
) -> IssuedLink:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    if customer.status == CustomerStatus.erased:
        raise Conflict(f"customer {customer_id} has been erased")
    # The hash needs the id, which needs a flush: a placeholder for the moment between.
    link = PersonalLink(
        customer_id=customer_id,
        secret_hash="pending",  # noqa: S106
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(link)
    session.flush()
    token = f"{link.id}.{secrets.token_urlsafe(24)}"
    link.secret_hash = _mac(secret_key, f"link:{token}")
    record(
        session=session,
        actor=actor,
        action="link.create",
        entity_type="customer",
        entity_id=customer_id,
        after={"link": link.id, "expires_at": link.expires_at.isoformat()},
    )
    return IssuedLink(id=link.id, expires_at=link.expires_at, token=token)


def create_links(
    *,
    session: Session,
    customer_ids: Sequence[int],
    secret_key: str,
    actor: Actor,
    days: int = DEFAULT_DAYS,
) -> dict[int, IssuedLink]:
    """:func:`create_link` for many customers, for a sender's batch; erased or unknown
    customers are left out. Three statements on the session's connection whatever the number
    (the rows, their hashes, their audit entries): through the ORM's unit of work the same
    cost a sender more per message than the message's SMTP exchange."""
    wanted = set(customer_ids)
    live = session.scalars(
        select(Customer.id).where(Customer.id.in_(wanted), Customer.status != CustomerStatus.erased)
    ).all()
    if not live:
        return {}
    connection = session.connection()
    created_at = utcnow()
    expires_at = created_at + timedelta(days=days)
    rows = connection.execute(
        insert(_LINKS).returning(_LINKS.c.id, _LINKS.c.customer_id, sort_by_parameter_order=True),
        [
            {
                "customer_id": customer_id,
                "secret_hash": "pending",  # as in create_link: the id comes first
                "created_at": created_at,
                "expires_at": expires_at,
            }
            for customer_id in live
        ],
    ).all()
    issued = {}
    hashes = []
    for link_id, customer_id in rows:
        # No PersonalLink objects: building them was a fifth of this function's CPU.
        token = f"{link_id}.{secrets.token_urlsafe(24)}"
        issued[customer_id] = IssuedLink(id=link_id, expires_at=expires_at, token=token)
        hashes.append({"link": link_id, "hash": _mac(secret_key, f"link:{token}")})
    connection.execute(_SET_HASH, hashes)
    record_many(
        session=session,
        actor=actor,
        action="link.create",
        entity_type="customer",
        entries=[
            (customer_id, {"link": i.id, "expires_at": expires_at.isoformat()})
            for customer_id, i in issued.items()
        ],
    )
    return issued


_LINKS: Table = PersonalLink.__table__  # type: ignore[assignment]
_SET_HASH = (
    update(_LINKS).where(_LINKS.c.id == bindparam("link")).values(secret_hash=bindparam("hash"))
)


def resolve_link(
    *, session: Session, token: str, secret_key: str, now: datetime | None = None
) -> PersonalLink:
    link_id, _, rest = token.partition(".")
    if not link_id.isdigit() or not rest:
        raise LinkGone("this link is not valid")
    link = session.get(PersonalLink, int(link_id))
    if link is None or not hmac.compare_digest(link.secret_hash, _mac(secret_key, f"link:{token}")):
        raise LinkGone("this link is not valid")
    if link.revoked_at is not None:
        raise LinkGone("this link has been withdrawn")
    if link.expires_at <= (now or utcnow()):
        raise LinkGone("this link has expired")
    customer = session.get(Customer, link.customer_id)
    if customer is None or customer.status == CustomerStatus.erased:
        raise LinkGone("this link is not valid")
    return link


def revoke_link(*, session: Session, link_id: int, actor: Actor) -> PersonalLink:
    link = session.get(PersonalLink, link_id)
    if link is None:
        raise NotFound(f"link {link_id} does not exist")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        record(
            session=session,
            actor=actor,
            action="link.revoke",
            entity_type="customer",
            entity_id=link.customer_id,
            after={"link": link.id},
        )
    return link


def links_for(*, session: Session, customer_id: int) -> list[PersonalLink]:
    return list(
        session.scalars(
            select(PersonalLink)
            .where(PersonalLink.customer_id == customer_id)
            .order_by(PersonalLink.id.desc())
        )
    )


def form_token(link: PersonalLink, secret_key: str) -> str:
    """The CSRF token for this link's forms: tied to the link, useless with any other."""
    return _mac(secret_key, f"csrf:{link.id}:{link.secret_hash}")[:40]


def check_form_token(link: PersonalLink, secret_key: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(form_token(link, secret_key), given)
