"""Matching any set of records: a customer import against a tracking source, duplicates within
one import, unknown sources named, birth dates in several formats, the identity limits kept,
and the results read back as CSV and JSON with their evidence."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.identity.synthetic import Record, two_systems
from tests.identity.test_identity import send
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.cli.main import app
from tillit.config import Settings
from tillit.customers.models import Customer, Identity
from tillit.errors import InvalidInput
from tillit.identity.comparisons import (
    BIRTH_DATE_TRAITS,
    parse_fields,
    plain_text,
    read_date,
)
from tillit.identity.merge import unmerge
from tillit.identity.models import MatchSuggestion, Merge
from tillit.identity.rules import load_rules
from tillit.identity.suggestions import UnknownSource, match_sources, run_matching
from tillit.quality.checks import BIRTH_DATE_FIELDS
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("test")


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TILLIT_DEFAULT_COUNTRY", "DK")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def compact(birth_date: str | None) -> str:
    """1990-01-02 as a till system writes it: 19900102."""
    return (birth_date or "").replace("-", "")


def write_customers(path: Path, records: list[Record]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["loyalty_card", "trait.first_name", "trait.surname", "trait.dob", "trait.postcode"]
        )
        for r in records:
            writer.writerow(
                [r.record_id, r.first_name, r.last_name, compact(r.birth_date), r.postcode]
            )


def card(record_id: str) -> str:
    return record_id.replace("-", "").upper()


def pairs_found(sessions: SessionFactory, *, status: str | None = None) -> set[frozenset[int]]:
    with sessions() as session:
        query = select(MatchSuggestion.left_customer_id, MatchSuggestion.right_customer_id)
        if status:
            query = query.where(MatchSuggestion.status == status)
        return {frozenset(p) for p in session.execute(query)}


def owners(sessions: SessionFactory) -> dict[str, int]:
    """Identity value -> the customer it was first given to (before any merge)."""
    with sessions() as session:
        return {v: c for v, c in session.execute(select(Identity.value, Identity.customer_id))}


def test_a_customer_import_is_matched_against_a_tracking_source(
    tmp_path: Path,
    cli_env: None,
    client: TestClient,
    write_key: str,
    sessions: SessionFactory,
) -> None:
    store, web = two_systems(150, seed=5)
    path = tmp_path / "store.csv"
    write_customers(path, store)
    code, output = run("import", "customers", str(path))
    assert code == 0, output
    for start in range(0, len(web), 50):
        send(
            client,
            write_key,
            *(
                {
                    "type": "identify",
                    "userId": r.record_id,
                    "traits": {
                        "firstName": r.first_name,
                        "lastName": r.last_name,
                        "birthday": r.birth_date,
                        "postcode": r.postcode,
                    },
                    "messageId": f"m-{r.record_id}",
                }
                for r in web[start : start + 50]
            ),
        )
    held_by = owners(sessions)
    person = {held_by[card(r.record_id)]: r.person for r in store}
    person |= {held_by[r.record_id]: r.person for r in web}
    truth = {frozenset((a, b)) for a in person for b in person if a < b and person[a] == person[b]}
    assert len(truth) == 75  # half the store's people also shop on the web

    code, output = run("match", "run", "import:store.csv", "web shop")
    assert code == 0, output
    assert "300 profiles compared" in output
    merged = pairs_found(sessions, status="auto")
    assert merged and merged <= truth  # every automatic merge is a true pair
    assert len(pairs_found(sessions) & truth) >= 0.9 * len(truth)
    with sessions() as session, session.begin():
        auto = session.scalars(
            select(MatchSuggestion).where(MatchSuggestion.status == "auto")
        ).first()
        assert auto is not None and auto.evidence is not None
        # 19900102 from the till and 1990-01-02 from the web shop are one date.
        assert auto.evidence["birth_date"]["verdict"] == "agree"
        assert auto.evidence["birth_date"]["weight"] > 0
        assert session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "customer.merge")
        ) == len(merged)
        entry = session.get_one(Merge, auto.merge_id)
        moved = entry.moved_identities
        unmerge(session=session, merge_id=entry.id, actor=ACTOR)  # undoable as any merge
    with sessions() as session:
        for kind, value in moved:
            assert (
                session.scalar(
                    select(Identity.customer_id).where(
                        Identity.type == kind, Identity.value == value
                    )
                )
                == entry.from_customer_id
            )

    code, output = run("match", "suggestions", "--format", "json", "--status", "all")
    assert code == 0
    rows = json.loads(output)
    assert len(rows) == len(pairs_found(sessions))
    assert {"first_name", "last_name", "birth_date", "postcode"} <= set(rows[0]["evidence"])
    assert rows[0]["probability"] >= rows[-1]["probability"]
    code, output = run("match", "suggestions", "--format", "csv", "--status", "auto")
    table = list(csv.DictReader(output.splitlines()))
    assert len(table) == len(merged)  # the undone merge's pair stays listed as decided
    assert {"birth_date_verdict", "birth_date_weight", "probability"} <= set(table[0])


def test_duplicates_within_one_source(
    tmp_path: Path, cli_env: None, sessions: SessionFactory
) -> None:
    store, web = two_systems(160, seed=8)
    shared = {r.person for r in store}
    records = store + [r for r in web if r.person in shared]
    path = tmp_path / "members.csv"
    write_customers(path, records)
    assert run("import", "customers", str(path))[0] == 0
    held_by = owners(sessions)
    person = {held_by[card(r.record_id)]: r.person for r in records}
    truth = {frozenset((a, b)) for a in person for b in person if a < b and person[a] == person[b]}

    code, output = run("match", "run", "import:members.csv")
    assert code == 0, output
    found, merged = pairs_found(sessions), pairs_found(sessions, status="auto")
    assert merged and merged <= truth
    assert len(found & truth) >= 0.9 * len(truth)
    with sessions() as session:
        profiles_left = session.scalar(select(func.count(func.distinct(Identity.customer_id))))
    assert profiles_left == len(records) - len(merged)


def test_an_unknown_source_is_an_error_naming_it(
    cli_env: None, sessions: SessionFactory, settings: Settings
) -> None:
    load_people(sessions, {"source:store": 4})
    code, output = run("match", "run", "store", "kiosk")
    assert code == 1
    assert "'kiosk'" in output and "known sources: store" in output
    with sessions() as session, pytest.raises(UnknownSource, match=r"import:nope\.csv"):
        match_sources(session=session, settings=settings, names=["import:nope.csv"], actor=ACTOR)
    assert not pairs_found(sessions)


def test_birth_dates_are_read_in_common_formats() -> None:
    assert read_date("19900102") == "1990-01-02"
    assert read_date("1990-01-02") == "1990-01-02"
    assert read_date("1990-01-02T00:00:00Z") == "1990-01-02"
    assert read_date("02/01/1990") == "1990-01-02"  # day first, as in Europe
    assert read_date("02.01.1990") == "1990-01-02"
    assert read_date("12/31/1990") == "1990-12-31"  # only month first makes a date
    assert read_date("19901332") is None
    assert read_date("soon") is None
    assert set(BIRTH_DATE_TRAITS) == BIRTH_DATE_FIELDS  # the keys the quality report reads
    assert plain_text("  Søren   ÆRØ-Hansen ") == "soren aero hansen"


def test_unreadable_and_blocked_values_are_counted_not_compared(
    sessions: SessionFactory,
) -> None:
    load_people(
        sessions,
        {"source:store": 6},
        birthday=lambda i: "not a date" if i < 2 else f"1980010{i}",
        postcode=lambda i: "unknown" if i == 5 else f"80{i:02d}",
    )
    with sessions() as session, session.begin():
        report = run_matching(
            session=session,
            sources=["source:store"],
            fields=parse_fields(["first_name", "last_name", "birth_date", "postcode", "email"]),
            rules=load_rules(),
            review_floor=0.8,
            auto_threshold=0.99,
            actor=ACTOR,
        )
    assert report.unreadable == {"birth_date": 2}
    assert report.blocked == {"postcode": 1}
    assert report.not_compared == ["email"]


def test_match_fields_are_checked() -> None:
    assert [f.name for f in parse_fields(["first_name", "postcode"])] == [
        "first_name",
        "postcode",
    ]
    custom = parse_fields([{"name": "member_no", "kind": "id", "traits": ["memberNo"]}])
    assert custom[0].traits == ("memberNo",)
    with pytest.raises(InvalidInput, match=r"TILLIT_MATCH_FIELDS\[1\]: 'shoe_size'"):
        parse_fields(["first_name", "shoe_size"])
    with pytest.raises(InvalidInput, match="kind: one of"):
        parse_fields([{"name": "x", "kind": "colour", "traits": ["x"]}])


def test_automatic_merges_keep_to_the_identity_limits(sessions: SessionFactory) -> None:
    """Both sides hold a user_id; at most one per profile (the default limit) means no pair
    is merged automatically: they wait for review. Without the limit they merge."""
    store, web = two_systems(120, seed=2)
    load_records(sessions, "source:store", store)
    load_records(sessions, "source:web", web)
    arguments = {
        "sources": ["source:store", "source:web"],
        "fields": parse_fields(["first_name", "last_name", "birth_date", "postcode"]),
        "review_floor": 0.8,
        "auto_threshold": 0.99,
        "actor": ACTOR,
    }
    with sessions() as session, session.begin():
        limited = run_matching(session=session, rules=load_rules(), **arguments)  # type: ignore[arg-type]
    assert limited.merged == 0 and limited.held > 30
    assert not pairs_found(sessions, status="auto")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Merge)) == 0
        session.execute(MatchSuggestion.__table__.delete())
        session.commit()
    with sessions() as session, session.begin():
        free = run_matching(session=session, rules=load_rules(limits={}), **arguments)  # type: ignore[arg-type]
    assert free.merged == limited.held and free.held == 0


def load_records(sessions: SessionFactory, source: str, records: list[Record]) -> None:
    with sessions() as session, session.begin():
        for r in records:
            customer = Customer(
                locale="en",
                time_zone="Europe/Copenhagen",
                traits={
                    "firstName": r.first_name,
                    "lastName": r.last_name,
                    "birthday": r.birth_date,
                    "postcode": r.postcode,
                },
            )
            session.add(customer)
            session.flush()
            session.add(
                Identity(customer_id=customer.id, type="user_id", value=r.record_id, source=source)
            )


def load_people(
    sessions: SessionFactory,
    counts: dict[str, int],
    *,
    birthday=lambda i: f"1980-01-0{i + 1}",
    postcode=lambda i: "8000",
) -> None:
    names = ["Ida", "Jens", "Eva", "Mads", "Sofie", "Emil", "Freja", "Noah"]
    with sessions() as session, session.begin():
        for source, count in counts.items():
            for i in range(count):
                customer = Customer(
                    locale="da",
                    time_zone="Europe/Copenhagen",
                    traits={
                        "firstName": names[i % len(names)],
                        "lastName": "Holm",
                        "birthday": birthday(i),
                        "postcode": postcode(i),
                    },
                )
                session.add(customer)
                session.flush()
                session.add(
                    Identity(
                        customer_id=customer.id,
                        type="user_id",
                        value=f"{source}-{i}",
                        source=source,
                    )
                )
