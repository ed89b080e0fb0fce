"""merge_many writes what merge_profiles, pair by pair, writes: the same Merge rows, moves,
traits, names and audit entries (it is what probabilistic matching merges with)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.customers.models import Customer, Identity
from tillit.identity.merge import PlannedMerge, merge_many, merge_profiles, unmerge
from tillit.identity.models import Merge
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("test")
PEOPLE = (  # name, traits, identities
    (None, {"firstName": "Ida", "city": "Aarhus"}, [("user_id", "ida"), ("email", "ida@x")]),
    ("Ida Lund", {"firstName": "Ida", "lastName": "Lund"}, [("loyalty_card", "C1")]),
    (None, {"postcode": "8000"}, [("phone", "+4512345678")]),
    ("I. Lund", {"city": "Odense", "dob": "1990-01-02"}, [("user_id", "ida-2")]),
)
# A chain: 0 into 1, then 1 (holding 0's identifiers) into 2, and 3 into 2.
PLAN = ((0, 1), (1, 2), (3, 2))


def people(sessions: SessionFactory, suffix: str) -> list[int]:
    ids = []
    with sessions() as session, session.begin():
        for name, traits, identities in PEOPLE:
            customer = Customer(
                locale="da", time_zone="Europe/Copenhagen", name=name, traits=traits
            )
            session.add(customer)
            session.flush()
            for kind, value in identities:
                session.add(Identity(customer_id=customer.id, type=kind, value=value + suffix))
            ids.append(customer.id)
    return ids


def written(sessions: SessionFactory, ids: list[int], suffix: str) -> dict[str, Any]:
    """What the merges left, with ids as positions in PEOPLE and the suffix taken off (moved
    identifiers as a set: merge_profiles reads them in no particular order)."""
    at = {customer_id: i for i, customer_id in enumerate(ids)}

    def plain(identities: list[list[str]]) -> list[list[str]]:
        return sorted([kind, value.removesuffix(suffix)] for kind, value in identities)

    with sessions() as session:
        merges = session.scalars(
            select(Merge).where(Merge.into_customer_id.in_(ids)).order_by(Merge.id)
        ).all()
        numbers = {m.id: n for n, m in enumerate(merges)}
        audit = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "customer.merge", AuditEntry.entity_id.in_(map(str, ids)))
            .order_by(AuditEntry.id)
        ).all()
        profiles = session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
        holders = session.execute(
            select(Identity.customer_id, Identity.type, Identity.value).where(
                Identity.customer_id.in_(ids)
            )
        ).all()
        return {
            "merges": [
                (
                    at[m.from_customer_id],
                    at[m.into_customer_id],
                    m.reason,
                    m.by,
                    plain(m.moved_identities),
                    m.from_snapshot,
                )
                for m in merges
            ],
            "audit": [
                (
                    a.actor_label,
                    at[int(a.entity_id or 0)],
                    numbers[a.after["merge_id"]],
                    at[a.after["from"]],
                    a.after["reason"],
                    plain(a.after["identities"]),
                )
                for a in audit
            ],
            "profiles": sorted((at[p.id], p.name, p.traits) for p in profiles),
            "holders": sorted((at[c], str(k), v.removesuffix(suffix)) for c, k, v in holders),
        }


def test_merge_many_writes_what_merge_profiles_writes(sessions: SessionFactory) -> None:
    one_by_one, at_once = people(sessions, "-a"), people(sessions, "-b")
    with sessions() as session, session.begin():
        for a, b in PLAN:
            merge_profiles(
                session=session,
                from_id=one_by_one[a],
                into_id=one_by_one[b],
                reason=f"match: {a} {b}",
                actor=ACTOR,
            )
    with sessions() as session, session.begin():
        merge_ids = merge_many(
            session=session,
            merges=[PlannedMerge(at_once[a], at_once[b], f"match: {a} {b}") for a, b in PLAN],
            actor=ACTOR,
        )
    expected = written(sessions, one_by_one, "-a")
    assert written(sessions, at_once, "-b") == expected
    assert expected["profiles"][2][2] == {
        "postcode": "8000",
        "firstName": "Ida",
        "lastName": "Lund",
        "city": "Aarhus",
        "dob": "1990-01-02",
    }
    with sessions() as session, session.begin():  # undone last first, each puts back its own
        for merge_id in reversed(merge_ids):
            unmerge(session=session, merge_id=merge_id, actor=ACTOR)
    with sessions() as session:
        for i, customer_id in enumerate(at_once):
            held = session.scalars(
                select(Identity.value).where(Identity.customer_id == customer_id)
            ).all()
            assert sorted(held) == sorted(v + "-b" for _, v in PEOPLE[i][2])
