"""Snapshots of the operational tables: written from the real database (SQLite and PostgreSQL),
rewritten only when their table changed, people resolved through merges, the erased left out.
These touch the database, so they run in both database passes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from tillit.analytics.engine import connect
from tillit.analytics.snapshots import (
    FINGERPRINT_FILE,
    SNAPSHOTS,
    refresh_snapshots,
    snapshot_dir,
    snapshot_path,
)
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.identity.merge import merge_profiles
from tillit.privacy.erasure import erase_customer
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tests")


def _customer(sessions: SessionFactory, defaults: Defaults, email: str, country: str) -> int:
    with sessions() as session, session.begin():
        data = CustomerCreate(
            locale="da-DK",
            country=country,
            traits={"tier": "gold"},
            identities=[IdentityCreate(type="email", value=email)],
        )
        return create_customer(session=session, data=data, defaults=defaults, actor=ACTOR).id


def _consent(
    sessions: SessionFactory, customer_id: int, purpose: str, decision: ConsentDecision
) -> None:
    with sessions() as session, session.begin():
        record_consent(
            session=session,
            customer_id=customer_id,
            purpose_key=purpose,
            decision=decision,
            method=Method.api,
            actor=ACTOR,
        )


def _rows(data_dir: Path, name: str) -> list[dict]:
    return pq.read_table(snapshot_path(data_dir, name)).to_pylist()


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    return tmp_path


def test_snapshots_are_rewritten_only_when_their_table_changed(sessions, defaults, lake_dir):
    ida = _customer(sessions, defaults, "ida.snap@example.com", "DK")
    first = refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    assert set(first.written) == {s.name for s in SNAPSHOTS}  # every table, even empty ones
    assert ida in {row["customer_id"] for row in _rows(lake_dir, "customers")}

    again = refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    assert again.written == {} and set(again.unchanged) == {s.name for s in SNAPSHOTS}

    _consent(sessions, ida, "marketing", ConsentDecision.granted)
    after_consent = refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    assert set(after_consent.written) == {"consents"}
    mine = [r for r in _rows(lake_dir, "consents") if r["customer_id"] == ida]
    assert [(r["purpose_key"], r["decision"]) for r in mine] == [("marketing", "granted")]


def test_a_snapshot_written_before_a_column_was_added_is_written_again(
    sessions, defaults, lake_dir
):
    _customer(sessions, defaults, "ida.columns@example.com", "DK")
    refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    # What the sends' fingerprint was before it named its columns (and before `campaign`).
    stored = snapshot_dir(lake_dir, "sends") / FINGERPRINT_FILE
    marks = orjson.loads(stored.read_text())
    assert "campaign" in marks[0]
    stored.write_bytes(orjson.dumps(marks[1:]))
    report = refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    assert set(report.written) == {"sends"}
    assert "campaign" in pq.read_schema(snapshot_path(lake_dir, "sends")).names


def test_a_merge_resolves_to_the_surviving_person_and_an_erased_person_leaves(
    sessions, defaults, lake_dir, settings: Settings
):
    ida = _customer(sessions, defaults, "ida.merge@example.com", "DK")
    twin = _customer(sessions, defaults, "ida.other@example.com", "SE")
    ola = _customer(sessions, defaults, "ola.merge@example.com", "NO")
    _consent(sessions, twin, "research", ConsentDecision.granted)
    _consent(sessions, ida, "marketing", ConsentDecision.granted)
    _consent(sessions, ida, "marketing", ConsentDecision.withdrawn)
    _consent(sessions, ola, "marketing", ConsentDecision.granted)
    refresh_snapshots(sessions=sessions, data_dir=lake_dir)

    with sessions() as session, session.begin():
        merge_profiles(session=session, from_id=twin, into_id=ida, reason="test", actor=ACTOR)
    report = refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    assert {"person_map", "identities"} <= set(report.written)
    assert "consents" not in report.written

    model = Model(connect(settings, "duckdb"), lake_dir)
    people = model.customers().to_pyarrow().to_pylist()
    mine = {r["person_id"] for r in people} & {ida, twin, ola}
    assert mine == {ida, ola}  # the merged-away profile is no person of its own
    state = model.consent_state().to_pyarrow().to_pylist()
    current = {
        (r["person_id"], r["purpose_key"], r["decision"])
        for r in state
        if r["person_id"] in {ida, ola}
    }
    assert current == {
        (ida, "marketing", "withdrawn"),
        (ida, "research", "granted"),  # the twin's consent, now Ida's
        (ola, "marketing", "granted"),
    }

    with sessions() as session, session.begin():
        erase_customer(
            session=session, customer_id=ola, secret_key=settings.secret_key, actor=ACTOR
        )
    report = refresh_snapshots(sessions=sessions, data_dir=lake_dir)
    assert {"customers", "consents", "identities"} <= set(report.written)
    for snapshot in SNAPSHOTS:
        columns = {c.name for c in snapshot.columns}
        if "customer_id" in columns:
            assert ola not in {r["customer_id"] for r in _rows(lake_dir, snapshot.name)}, (
                snapshot.name
            )
