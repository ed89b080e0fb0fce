"""The experiments API: drafting, starting and stopping (each audited), reading with the split,
and serving variants; errors as RFC 9457 problems. Exposures from trackers' Experiment Viewed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.customers.models import Customer, Identity
from tillit.customers.service import Defaults
from tillit.events.importing import import_file
from tillit.events.sources import create_source
from tillit.experiments.hooks import VIEWED
from tillit.experiments.models import Exposure
from tillit.identity.rules import load_rules
from tillit.staff.scopes import (
    EXPERIMENTS_ASSIGN,
    EXPERIMENTS_DRAFT,
    EXPERIMENTS_READ,
    EXPERIMENTS_RUN,
)
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

from .conftest import ACTOR, definition

API = "/api/v1/experiments"


def _auth(token_for: Callable[..., str], *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(*scopes)}"}


def test_draft_start_read_and_stop_each_audited(
    client: TestClient, sessions: SessionFactory, token_for: Callable[..., str]
) -> None:
    drafter = _auth(token_for, EXPERIMENTS_DRAFT, EXPERIMENTS_READ)
    runner = _auth(token_for, EXPERIMENTS_RUN)
    created = client.post(API, json=definition(), headers=drafter)
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith(f"{API}/checkout-copy")
    body = created.json()
    assert body["status"] == "draft" and body["control"] == "control"
    assert [v["key"] for v in body["variants"]] == ["control", "pay-now"]
    assert "salt" not in body  # the salt stays inside: it would let callers predict variants

    assert client.post(f"{API}/checkout-copy/start", headers=drafter).status_code == 403
    started = client.post(f"{API}/checkout-copy/start", headers=runner)
    assert started.status_code == 200 and started.json()["status"] == "running"
    again = client.post(f"{API}/checkout-copy/start", headers=runner)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"

    read = client.get(f"{API}/checkout-copy", headers=drafter).json()
    assert read["split"] == {
        "units": {"control": 0, "pay-now": 0},
        "mixed": 0,
        "srm_p_value": 1.0,
        "sample_ratio_mismatch": False,
    }
    assert [e["key"] for e in client.get(API, headers=drafter).json()] == ["checkout-copy"]

    no_reason = client.post(f"{API}/checkout-copy/stop", json={}, headers=runner)
    assert no_reason.status_code == 422
    stopped = client.post(
        f"{API}/checkout-copy/stop",
        json={"reason": "The copy was changed site-wide"},
        headers=runner,
    )
    assert stopped.status_code == 200
    assert stopped.json()["stop_reason"] == "The copy was changed site-wide"
    with sessions() as session:
        actions = [
            (e.action, e.actor_type)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "experiment")
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == [
        ("experiment.create", "token"),
        ("experiment.start", "token"),
        ("experiment.stop", "token"),
    ]


def test_a_bad_definition_names_each_field_and_writes_nothing(
    client: TestClient, sessions: SessionFactory, token_for: Callable[..., str]
) -> None:
    headers = _auth(token_for, EXPERIMENTS_DRAFT)
    bad = definition(
        key="Not a key",
        variants=[{"key": "control", "weight": 0}, {"key": "b", "weight": 1, "colour": "red"}],
    )
    answer = client.post(API, json=bad, headers=headers)
    assert (
        answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    )
    fields = {error["field"] for error in answer.json()["errors"]}
    assert fields == {"key", "variants[0].weight", "variants[1].colour"}
    crossed = client.post(API, json=definition(control="holdout"), headers=headers)
    assert crossed.status_code == 422
    assert [e["field"] for e in crossed.json()["errors"]] == ["control"]
    assert client.post(API, json=definition(), headers=headers).status_code == 201
    taken = client.post(API, json=definition(), headers=headers)
    assert taken.status_code == 409
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "experiment"))
        assert len(list(entries)) == 1


def test_serving_a_variant_is_idempotent_and_says_which_person(
    client: TestClient,
    sessions: SessionFactory,
    token_for: Callable[..., str],
    make_customer: Callable[..., int],
    running: Callable[..., str],
) -> None:
    headers = _auth(token_for, EXPERIMENTS_ASSIGN)
    customer = make_customer()
    with sessions() as session, session.begin():
        session.add(Identity(customer_id=customer, type="user_id", value="shop-4711"))
    draft_only = client.post(
        API, json=definition("later"), headers=_auth(token_for, EXPERIMENTS_DRAFT)
    )
    assert draft_only.status_code == 201
    key = running()
    url = f"{API}/{key}/assignments"
    first = client.post(url, json={"customer_id": customer}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["first"] is True and first.json()["customer_id"] == customer
    by_identity = client.post(
        url, json={"identity": {"type": "user_id", "value": "shop-4711"}}, headers=headers
    )
    assert by_identity.json()["variant"] == first.json()["variant"]
    assert by_identity.json()["first"] is False
    assert by_identity.json()["exposed_at"] == first.json()["exposed_at"]
    with sessions() as session:
        assert len(list(session.scalars(select(Exposure)))) == 1

    problems = {
        "unknown experiment": (f"{API}/nothing/assignments", {"customer_id": customer}, 404),
        "draft": (f"{API}/later/assignments", {"customer_id": customer}, 409),
        "unknown customer": (url, {"customer_id": 10**12}, 404),
        "unknown identity": (url, {"identity": {"type": "user_id", "value": "nobody"}}, 404),
        "both": (
            url,
            {"customer_id": customer, "identity": {"type": "user_id", "value": "x"}},
            422,
        ),
        "neither": (url, {}, 422),
        "bad key": (f"{API}/Bad Key!/assignments", {"customer_id": customer}, 422),
    }
    for name, (where, body, status) in problems.items():
        answer = client.post(where, json=body, headers=headers)
        assert answer.status_code == status, (name, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", name
    with sessions() as session:
        assert len(list(session.scalars(select(Exposure)))) == 1


def _tracked(customer_email: str, **properties: str) -> list[dict[str, object]]:
    return [
        {"type": "identify", "userId": "u-viewer", "messageId": "v-1",
         "traits": {"email": customer_email}},
        {"type": "track", "userId": "u-viewer", "event": "Experiment Viewed", "messageId": "v-2",
         "timestamp": "2026-11-20T10:00:00Z", "properties": properties},
    ]  # fmt: skip


def test_experiment_viewed_from_a_tracker_logs_the_variant_it_names(
    client: TestClient, sessions: SessionFactory, running: Callable[..., str]
) -> None:
    key = running()
    with sessions() as session, session.begin():
        _, write_key = create_source(
            session=session, name="web", channel=SourceChannel.web, actor=ACTOR
        )
    batch = _tracked("viewer@example.com", experiment_id=key, variation_id="pay-now")
    assert client.post("/v1/batch", json={"batch": batch}, auth=(write_key, "")).status_code == 200
    skipped_before = sum(VIEWED.skipped.values())
    purple = {"experiment_id": key, "variation_id": "purple"}
    odd = {
        "batch": [
            {**batch[1], "messageId": "v-3", "properties": purple},
            {**batch[1], "messageId": "v-4", "properties": {"experiment_id": "nope"}},
        ]
    }
    assert client.post("/v1/batch", json=odd, auth=(write_key, "")).status_code == 200
    assert sum(VIEWED.skipped.values()) == skipped_before + 2
    with sessions() as session:
        person = session.scalar(select(Identity.customer_id).where(Identity.value == "u-viewer"))
        rows = [(e.customer_id, e.variant, e.via) for e in session.scalars(select(Exposure))]
    assert rows == [(person, "pay-now", "track")]


@pytest.mark.parametrize("workers", [0, 1], ids=["inline", "bulk-copy"])
def test_experiment_viewed_in_an_imported_file_without_a_variant_logs_the_assigned_one(
    sessions: SessionFactory,
    defaults: Defaults,
    tmp_path: Path,
    running: Callable[..., str],
    workers: int,
) -> None:
    key = running()
    with sessions() as session, session.begin():
        source, _ = create_source(
            session=session, name="app", channel=SourceChannel.app, actor=ACTOR
        )
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(json.dumps(m) + "\n" for m in _tracked("file@example.com", experiment_name=key))
    )
    report = import_file(
        sessions=sessions, path=path, source=source, rules=load_rules(), defaults=defaults,
        workers=workers,
    )  # fmt: skip
    assert report.accepted == 2
    with sessions() as session:
        [exposure] = list(session.scalars(select(Exposure)))
        assert session.get(Customer, exposure.customer_id) is not None
    assert exposure.via == "track" and exposure.variant in ("control", "pay-now")
    assert exposure.exposed_at.isoformat().startswith("2026-11-20T10:00")
