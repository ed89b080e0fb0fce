"""Accepting a match suggestion whose profiles were merged away since it was found merges the
profiles that hold them now (followed through chains, never through undone merges), from the
staff page, the API and the CLI alike; a pair already in one profile is accepted, not merged."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.identity.test_match_review import person
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.cli.main import app
from tillit.config import Settings
from tillit.customers.models import Customer, CustomerStatus, Identity
from tillit.identity.merge import current_holder, merge_profiles, unmerge
from tillit.identity.models import MatchSuggestion, Merge
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("test")
_phones = iter(range(10_000, 99_999))


def people(session, n: int) -> list[int]:
    return [
        person(session, "Ida", "Holm", "1990-01-02", f"+4520{next(_phones):06d}") for _ in range(n)
    ]


def merge(session, from_id: int, into_id: int) -> Merge:
    return merge_profiles(
        session=session, from_id=from_id, into_id=into_id, reason="test", actor=ACTOR
    )


def suggest(session, left: int, right: int, probability: float = 0.9) -> int:
    suggestion = MatchSuggestion(
        left_customer_id=left, right_customer_id=right, probability=probability
    )
    session.add(suggestion)
    session.flush()
    return suggestion.id


def owner(sessions: SessionFactory, phone: str) -> int:
    with sessions() as session:
        found = session.scalar(select(Identity.customer_id).where(Identity.value == phone))
        assert found is not None
        return found


def test_current_holder_follows_chains_in_order_and_skips_undone(sessions: SessionFactory):
    with sessions() as session, session.begin():
        a, b, c, d, e = people(session, 5)
        merge(session, a, b)
        merge(session, b, c)  # a -> b -> c
        undone = merge(session, d, e)
        unmerge(session=session, merge_id=undone.id, actor=ACTOR)
        assert current_holder(session=session, customer_id=a) == c
        assert current_holder(session=session, customer_id=b) == c
        assert current_holder(session=session, customer_id=c) == c
        assert current_holder(session=session, customer_id=d) == d  # its merge was undone
        # Merged away and merged back: c went into a, so everything is in a now (no loop).
        merge(session, c, a)
        assert current_holder(session=session, customer_id=a) == a
        assert current_holder(session=session, customer_id=b) == a


def test_staff_bulk_accept_follows_merged_profiles(client, sessions, staff_as):
    with sessions() as session, session.begin():
        a, b, c, x, y, z, j, k, l_ = people(session, 9)
        phones = {i: phone_of_in(session, i) for i in (a, b, c, x, y, z, j, k, l_)}
        chained = suggest(session, b, c)  # then b goes into a, and a into x: b's holder is x
        together = suggest(session, y, z)  # then both go into x: already one profile
        revived = suggest(session, j, l_)  # j went into k, and that merge was undone
        merge(session, b, a)
        merge(session, a, x)
        merge(session, y, x)
        merge(session, z, x)
        back = merge(session, j, k)
        unmerge(session=session, merge_id=back.id, actor=ACTOR)
    _agent, csrf = staff_as("agent")
    page = client.get("/staff/matches")
    assert f'now part of <a href="/staff/customers/{x}">#{x}</a>' in page.text  # b, y and z
    assert page.text.count("now part of") == 3  # j's merge was undone: not followed
    done = client.post(
        "/staff/matches/decisions",
        data={
            "csrf_token": csrf,
            "decision": "accept",
            "suggestion": [str(chained), str(together), str(revived)],
        },
    )
    assert done.status_code == 200, done.text
    assert "3 pairs merged. 1 of them were already one profile." in done.text
    # c's identities went to x (b's holder), not into the empty shell b.
    assert owner(sessions, phones[c]) == x and owner(sessions, phones[b]) == x
    assert owner(sessions, phones[l_]) == j and owner(sessions, phones[j]) == j
    with sessions() as session:
        found = {s.id: s for s in session.scalars(select(MatchSuggestion))}
        assert {found[i].status for i in (chained, together, revived)} == {"accepted"}
        assert found[together].merge_id is None
        chain_merge = session.get(Merge, found[chained].merge_id)
        assert chain_merge is not None
        assert (chain_merge.from_customer_id, chain_merge.into_customer_id) == (c, x)
        assert f"{b} now in {x}" in chain_merge.reason
        shell = session.get(Customer, b)
        assert shell is not None
        assert not session.scalars(select(Identity).where(Identity.customer_id == b)).all()
        accepts = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "match.accept")
        ).all()
        assert len(accepts) == 3
    # The merge made by following is undone as any other: c is itself again.
    csrf_undo = client.post(
        f"/staff/merges/{found[chained].merge_id}/undo",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert csrf_undo.status_code == 303
    assert owner(sessions, phones[c]) == c


def phone_of_in(session, customer_id: int) -> str:
    return session.scalar(select(Identity.value).where(Identity.customer_id == customer_id))


def test_api_accept_follows_and_refuses_erased_and_decided(client, sessions, token_for):
    with sessions() as session, session.begin():
        a, b, c, d, e = people(session, 5)
        phone_b = phone_of_in(session, b)
        followed = suggest(session, a, b)
        merge(session, b, c)  # b went into c since the pair was found
        erased = suggest(session, d, e)
        merge(session, e, a)  # e's holder is a ...
        profile = session.get(Customer, d)
        assert profile is not None
        profile.status = CustomerStatus.erased  # ... and d was erased
    reader = {"Authorization": f"Bearer {token_for('matches:read')}"}
    decider = {"Authorization": f"Bearer {token_for('matches:decide')}"}
    body = {"suggestion_ids": [followed], "decision": "accept"}
    refused = client.post("/api/v1/match-suggestions/decisions", json=body, headers=reader)
    assert refused.status_code == 403
    accepted = client.post("/api/v1/match-suggestions/decisions", json=body, headers=decider)
    assert accepted.status_code == 200, accepted.text
    [item] = accepted.json()
    assert item["status"] == "accepted" and item["merge_id"] is not None
    assert owner(sessions, phone_b) == a  # b's identities, held by c, are in a now
    with sessions() as session:
        entry = session.get(Merge, item["merge_id"])
        assert entry is not None and (entry.from_customer_id, entry.into_customer_id) == (c, a)
    again = client.post("/api/v1/match-suggestions/decisions", json=body, headers=decider)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    both = {"suggestion_ids": [erased], "decision": "accept"}
    gone = client.post("/api/v1/match-suggestions/decisions", json=both, headers=decider)
    assert gone.status_code == 409 and "erased" in gone.json()["detail"]
    with sessions() as session:
        still = session.get(MatchSuggestion, erased)
        assert still is not None and still.status == "open"
    missing = {"suggestion_ids": [followed + 10_000], "decision": "reject"}
    unknown = client.post("/api/v1/match-suggestions/decisions", json=missing, headers=decider)
    assert unknown.status_code == 404
    empty = {"suggestion_ids": [], "decision": "reject"}
    assert (
        client.post("/api/v1/match-suggestions/decisions", json=empty, headers=decider).status_code
        == 422
    )


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))


def test_cli_decide_follows_merges(sessions: SessionFactory, cli_env: None):
    with sessions() as session, session.begin():
        a, b, c, d = people(session, 4)
        phone_a = phone_of_in(session, a)
        followed = suggest(session, a, b)
        rejected = suggest(session, c, d)
        merge(session, a, c)  # a went into c: accepting (a, b) merges b into c
    result = CliRunner().invoke(app, ["match", "decide", "accept", str(followed)])
    assert result.exit_code == 0, result.output
    assert f"{followed}: merged" in result.output
    assert owner(sessions, phone_a) == c
    result = CliRunner().invoke(app, ["match", "decide", "reject", str(rejected)])
    assert result.exit_code == 0 and f"{rejected}: rejected" in result.output
    result = CliRunner().invoke(app, ["match", "decide", "accept", str(followed)])
    assert result.exit_code == 1 and "already accepted" in result.output
    with sessions() as session:
        got = session.get(MatchSuggestion, followed)
        assert got is not None
        entry = session.get(Merge, got.merge_id)
        assert entry is not None and (entry.from_customer_id, entry.into_customer_id) == (b, c)
