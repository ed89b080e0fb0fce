"""The match review page: side by side, accept merges (audited), reject, undo auto-merges."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.events.test_timeline import sign_in
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.customers.models import Customer, Identity
from tillit.identity.merge import merge_profiles
from tillit.identity.models import MatchSuggestion
from tillit.vocabulary import SourceChannel


def person(session, first, last, birthday, phone):
    customer = Customer(
        name=f"{first} {last}",
        locale="da",
        time_zone="Europe/Copenhagen",
        traits={"firstName": first, "lastName": last, "birthday": birthday, "postcode": "8000"},
    )
    session.add(customer)
    session.flush()
    session.add(Identity(customer_id=customer.id, type="phone", value=phone, source="source:x"))
    return customer.id


def test_review_accept_reject_and_undo(client, sessions):
    with sessions() as session, session.begin():
        a = person(session, "Ida", "Holm", "1990-01-02", "+4520123456")
        b = person(session, "Ida", "Holm", "1990-01-02", "+4520123457")
        c = person(session, "Jens", "Lund", "1970-03-04", "+4520123458")
        d = person(session, "Jens", "Lunde", "1970-03-04", "+4520123459")
        e = person(session, "Eva", "Dahl", "1985-05-06", "+4520123460")
        f = person(session, "Eva", "Dahl", "1985-05-06", "+4520123461")
        entry = merge_profiles(
            session=session, from_id=f, into_id=e, reason="match", actor=Actor.system("test")
        )
        session.add_all(
            [
                MatchSuggestion(left_customer_id=a, right_customer_id=b, probability=0.95),
                MatchSuggestion(left_customer_id=c, right_customer_id=d, probability=0.85),
                MatchSuggestion(
                    left_customer_id=e,
                    right_customer_id=f,
                    probability=0.999,
                    status="auto",
                    merge_id=entry.id,
                ),
            ]
        )
    refused = client.get("/staff/matches", headers={"accept": "text/html"}, follow_redirects=False)
    assert refused.status_code == 303
    csrf = sign_in(client, sessions)
    page = client.get("/staff/matches")
    assert page.status_code == 200
    assert "95.0% likely" in page.text and "85.0% likely" in page.text
    assert page.text.index("95.0%") < page.text.index("85.0%")  # most probable first
    assert "Lunde" in page.text and ">differ<" in page.text and ">agree<" in page.text
    assert f'action="/staff/merges/{entry.id}/undo"' in page.text
    with sessions() as session:
        ids = {s.left_customer_id: s.id for s in session.scalars(select(MatchSuggestion))}

    no_token = client.post(f"/staff/matches/{ids[a]}", data={"decision": "accept"})
    assert no_token.status_code == 403
    accepted = client.post(
        f"/staff/matches/{ids[a]}",
        data={"decision": "accept", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    rejected = client.post(
        f"/staff/matches/{ids[c]}",
        data={"decision": "reject", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    again = client.post(f"/staff/matches/{ids[c]}", data={"decision": "accept", "csrf_token": csrf})
    assert again.status_code == 409
    with sessions() as session:
        owner = session.scalar(select(Identity.customer_id).where(Identity.value == "+4520123457"))
        assert owner == a
        statuses = {s.left_customer_id: s.status for s in session.scalars(select(MatchSuggestion))}
        assert statuses == {a: "accepted", c: "rejected", e: "auto"}
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"match.accept", "match.reject", "customer.merge"} <= actions
    assert "No open suggestions" in client.get("/staff/matches").text

    undone = client.post(
        f"/staff/merges/{entry.id}/undo", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert undone.status_code == 303
    with sessions() as session:
        owner = session.scalar(select(Identity.customer_id).where(Identity.value == "+4520123461"))
        assert owner == f
    assert re.search(r"undone", client.get(f"/staff/customers/{e}/timeline").text)


def test_staff_run_matching_from_the_page(client, sessions, staff_as):
    """What `tillit match run store web` does, from the matches page: suggestions appear to
    review, the run is audited, and an unknown source is named, not silently matched."""
    from tests.identity.test_suggestions import load
    from tillit.events.models import Source

    load(sessions)  # the same 300 people in a store system and a web shop, no shared key
    with sessions() as session, session.begin():
        for name in ("store", "web"):
            session.add(Source(name=name, write_key_hash=name[0] * 64, channel=SourceChannel.web))
    _agent, csrf = staff_as("agent")
    page = client.get("/staff/matches")
    assert "Run matching" in page.text and "No open suggestions." in page.text
    ran = client.post(
        "/staff/match-runs", data={"csrf_token": csrf, "left": "store", "right": "web"}
    )
    assert ran.status_code == 200 and "Matched store with web:" in ran.text
    with sessions() as session:
        suggestions = session.scalars(select(MatchSuggestion)).all()
        assert suggestions
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "match.run")).one()
    assert "likely the same person" in ran.text or "Merged automatically" in ran.text
    unknown = client.post(
        "/staff/match-runs", data={"csrf_token": csrf, "left": "store", "right": "kiosk"}
    )
    assert "No source is named kiosk." in unknown.text


def test_filters_paging_and_bulk_decisions(client, sessions, staff_as):
    """Thirty open pairs: 25 a page, filtered by probability and by customer; ticked pairs are
    decided together (each audited), and a stale tick (already decided) changes nothing."""
    with sessions() as session, session.begin():
        ids = []
        for i in range(30):
            a = person(session, "Ida", f"Holm{i}", "1990-01-02", f"+452010{i:04d}")
            b = person(session, "Ida", f"Holm{i}", "1990-01-02", f"+452020{i:04d}")
            suggestion = MatchSuggestion(
                left_customer_id=a,
                right_customer_id=b,
                probability=0.80 + i / 200,
                evidence={"last_name": {"level": "Exact match", "verdict": "agree", "weight": 9.5}},
            )
            session.add(suggestion)
            session.flush()
            ids.append(suggestion.id)
        first_left = a
    _agent, csrf = staff_as("agent")
    page = client.get("/staff/matches")
    assert "30 pairs, page 1 of 2." in page.text
    assert page.text.count('name="suggestion"') == 25 and "+9.5" in page.text
    assert 'href="/staff/matches?status=open&amp;min_probability=0.0&amp;page=2"' in page.text
    second = client.get("/staff/matches?page=2")
    assert second.text.count('name="suggestion"') == 5
    high = client.get("/staff/matches?min_probability=0.9")
    assert "10 pairs." in high.text
    one = client.get(f"/staff/matches?customer={first_left}")
    assert "1 pair." in one.text
    assert client.get("/staff/matches?min_probability=2").status_code == 422

    bulk = client.post(
        "/staff/matches/decisions",
        data={"csrf_token": csrf, "decision": "reject", "suggestion": [str(i) for i in ids[:3]]},
    )
    assert bulk.status_code == 200 and "3 pairs kept apart." in bulk.text
    stale = client.post(
        "/staff/matches/decisions",
        data={"csrf_token": csrf, "decision": "accept", "suggestion": [str(ids[3]), str(ids[0])]},
    )
    assert stale.status_code == 409
    accepted = client.post(
        "/staff/matches/decisions",
        data={"csrf_token": csrf, "decision": "accept", "suggestion": [str(ids[3]), str(ids[4])]},
    )
    assert "2 pairs merged." in accepted.text
    with sessions() as session:
        statuses = {s.id: s.status for s in session.scalars(select(MatchSuggestion))}
        assert [statuses[i] for i in ids[:5]] == ["rejected"] * 3 + ["accepted"] * 2
        actions = list(session.scalars(select(AuditEntry.action)))
        assert actions.count("match.reject") == 3 and actions.count("match.accept") == 2
    assert "3 pairs" in client.get("/staff/matches?status=rejected").text


def test_suggestions_api_pages_with_evidence(client, sessions, token_for):
    with sessions() as session, session.begin():
        for i in range(3):
            a = person(session, "Eva", "Dahl", "1985-05-06", f"+4530100{i:03d}")
            b = person(session, "Eva", "Dahl", "1985-05-06", f"+4530200{i:03d}")
            session.add(
                MatchSuggestion(
                    left_customer_id=a,
                    right_customer_id=b,
                    probability=0.9 + i / 100,
                    evidence={"first_name": {"level": "Exact", "verdict": "agree", "weight": 3.0}},
                )
            )
    headers = {"Authorization": f"Bearer {token_for('matches:read')}"}
    page = client.get("/api/v1/match-suggestions?limit=2", headers=headers)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 3 and len(body["items"]) == 2
    assert body["items"][0]["probability"] == 0.92
    assert body["items"][0]["evidence"]["first_name"]["verdict"] == "agree"
    rest = client.get("/api/v1/match-suggestions?limit=2&offset=2", headers=headers).json()
    assert len(rest["items"]) == 1
    bad = client.get("/api/v1/match-suggestions?status=maybe", headers=headers)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
