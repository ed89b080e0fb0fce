"""Links issued for a sender's batch (``create_links``): each one opens that customer's
preference centre, each is audited, and an erased customer gets none."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.consent.links import LinkGone, create_links, resolve_link
from tillit.customers.models import Customer, CustomerStatus
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import create_customer

ACTOR = Actor.system("tests")


def test_a_batch_of_links_resolves_each_to_its_customer(sessions, settings, defaults):
    with sessions() as session, session.begin():
        ids = [
            create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(
                    identities=[IdentityCreate(type="email", value=f"l{n}@example.com")]
                ),
            ).id
            for n in range(3)
        ]
        session.execute(
            update(Customer).where(Customer.id == ids[2]).values(status=CustomerStatus.erased)
        )
    with sessions() as session, session.begin():
        issued = create_links(
            session=session,
            customer_ids=[*ids, ids[0]],
            secret_key=settings.secret_key,
            actor=ACTOR,
        )
    assert sorted(issued) == ids[:2]
    with sessions() as session:
        for customer_id, link in issued.items():
            found = resolve_link(session=session, token=link.token, secret_key=settings.secret_key)
            assert (found.id, found.customer_id) == (link.id, customer_id)
            assert link.url("https://shop.example.com/").startswith("https://shop.example.com/p/")
        wrong = f"{issued[ids[0]].id}.{issued[ids[1]].token.partition('.')[2]}"
        with pytest.raises(LinkGone):  # another link's secret
            resolve_link(session=session, token=wrong, secret_key=settings.secret_key)
        audited = session.execute(
            select(AuditEntry.entity_id, AuditEntry.after).where(AuditEntry.action == "link.create")
        ).all()
    assert sorted((entity, after["link"]) for entity, after in audited) == sorted(
        (str(customer_id), link.id) for customer_id, link in issued.items()
    )
