"""Segments kept in the database (SQLite and PostgreSQL): versions, the size preview with
those left out for lack of consent, the membership refreshed by the jobs round with only the
differences written, a dialogue question that asks only a segment's members, and erasure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tillit.analytics.engine import connect
from tillit.analytics.models import SegmentChange, SegmentMember
from tillit.analytics.segment_store import (
    get_segment,
    is_member,
    members_page,
    preview,
    refresh_segments,
    save_segment,
    versions_of,
)
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.dialogues.catalogue import create_question
from tillit.dialogues.models import Ask
from tillit.dialogues.scheduling import on_event
from tillit.errors import InvalidInput
from tillit.i18n import LANGUAGES
from tillit.privacy.erasure import erase_customer
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tests")
NORDIC = {"kind": "country", "countries": ["NO", "SE"]}


def _customer(sessions: SessionFactory, defaults: Defaults, email: str, country: str) -> int:
    with sessions() as session, session.begin():
        data = CustomerCreate(
            locale="da-DK",
            country=country,
            identities=[IdentityCreate(type="email", value=email)],
        )
        return create_customer(session=session, data=data, defaults=defaults, actor=ACTOR).id


def _grant(sessions: SessionFactory, customer_id: int, purpose: str = "marketing") -> None:
    with sessions() as session, session.begin():
        record_consent(
            session=session,
            customer_id=customer_id,
            purpose_key=purpose,
            decision=ConsentDecision.granted,
            method=Method.api,
            actor=ACTOR,
        )


def _model(settings: Settings, data_dir: Path) -> Model:
    return Model(connect(settings, "duckdb"), data_dir)


def _refresh(sessions: SessionFactory, settings: Settings, data_dir: Path, **kwargs):
    refresh_snapshots(sessions=sessions, data_dir=data_dir)
    return refresh_segments(
        sessions=sessions, data_dir=data_dir, model=lambda: _model(settings, data_dir), **kwargs
    )


@pytest.fixture
def people(sessions, defaults) -> dict[str, int]:
    ids = {
        "ola": _customer(sessions, defaults, "ola.seg@example.com", "NO"),
        "siv": _customer(sessions, defaults, "siv.seg@example.com", "SE"),
        "ida": _customer(sessions, defaults, "ida.seg@example.com", "DK"),
        "kai": _customer(sessions, defaults, "kai.seg@example.com", "NO"),  # no consent
    }
    for name in ("ola", "siv", "ida"):
        _grant(sessions, ids[name])
    return ids


def test_versions_preview_and_a_refresh_that_writes_only_differences(
    sessions, settings: Settings, tmp_path: Path, people: dict[str, int]
):
    refresh_snapshots(sessions=sessions, data_dir=tmp_path)
    with sessions() as session:
        sized = preview(
            session=session,
            model=_model(settings, tmp_path),
            purpose="marketing",
            definition=NORDIC,
        )
    assert (sized.size, sized.left_out) == (2, 1)  # Ola and Siv; Kai has not consented

    with sessions() as session, session.begin():
        save_segment(
            session=session,
            key="nordic",
            name="Nordic",
            purpose="marketing",
            definition=NORDIC,
            actor=ACTOR,
        )
    first = _refresh(sessions, settings, tmp_path)
    assert first.refreshed == {"nordic": (2, 0)}
    with sessions() as session:
        segment = get_segment(session, "nordic")
        assert (segment.size, segment.left_out) == (2, 1)
        assert segment.refreshed_at is not None
        assert {m.customer_id for m in members_page(session, segment)} == {
            people["ola"],
            people["siv"],
        }
        assert is_member(session, "nordic", people["ola"])
        assert not is_member(session, "nordic", people["kai"])

    again = _refresh(sessions, settings, tmp_path)
    assert again.unchanged == ["nordic"] and again.refreshed == {}  # nothing moved

    _grant(sessions, people["kai"])  # Kai consents: he enters, nobody else is written
    third = _refresh(sessions, settings, tmp_path)
    assert third.refreshed == {"nordic": (1, 0)}

    with sessions() as session, session.begin():
        save_segment(
            session=session,
            key="nordic",
            name="Norway",
            purpose="marketing",
            definition={"kind": "country", "countries": ["NO"]},
            actor=ACTOR,
        )
    fourth = _refresh(sessions, settings, tmp_path)
    assert fourth.refreshed == {"nordic": (0, 1)}  # Siv left
    with sessions() as session:
        segment = get_segment(session, "nordic")
        assert [v.version for v in versions_of(session, segment)] == [1, 2]
        changes = session.execute(
            select(SegmentChange.customer_id, SegmentChange.change, SegmentChange.version)
            .where(SegmentChange.segment_id == segment.id)
            .order_by(SegmentChange.id)
        ).all()
    assert [tuple(c) for c in changes][-2:] == [
        (people["kai"], "entered", 1),
        (people["siv"], "left", 2),
    ]


def test_bad_definitions_are_refused_with_their_place(sessions, people):
    with sessions() as session, pytest.raises(InvalidInput) as error:
        save_segment(
            session=session,
            key="Bad Key",
            name="x",
            purpose="nope",
            definition={"kind": "all", "rules": [{"kind": "events", "event": ""}]},
            actor=ACTOR,
        )
    assert {e.field for e in error.value.errors} == {"key", "purpose"}
    with sessions() as session, pytest.raises(InvalidInput) as error:
        save_segment(
            session=session,
            key="x",
            name="x",
            purpose="marketing",
            definition={"kind": "all", "rules": [{"kind": "events", "event": ""}]},
            actor=ACTOR,
        )
    assert [e.field for e in error.value.errors] == ["definition.all.rules.0.events.event"]
    with sessions() as session, pytest.raises(InvalidInput, match="circle"):
        save_segment(
            session=session,
            key="x",
            name="x",
            purpose="marketing",
            definition={"kind": "segment", "segment": "x"},
            actor=ACTOR,
        )


def test_a_segment_used_by_a_dialogue_asks_only_its_members_and_erasure_leaves_it(
    sessions, settings: Settings, tmp_path: Path, people: dict[str, int]
):
    with sessions() as session, session.begin():
        save_segment(
            session=session,
            key="nordic",
            name="Nordic",
            purpose="marketing",
            definition=NORDIC,
            actor=ACTOR,
        )
        question = create_question(
            session=session,
            spec={
                "key": "seg-csat",
                "type": "csat",
                "trigger_event": "Order Completed",
                "segment_key": "nordic",
                "texts": dict.fromkeys(LANGUAGES, "How was it?"),
            },
            actor=ACTOR,
        )
        question_id = question.id
    _refresh(sessions, settings, tmp_path)
    now = utcnow()
    with sessions() as session, session.begin():
        for customer_id in people.values():
            on_event(session, customer_id, "Order Completed", now)
    with sessions() as session:
        asked = set(session.scalars(select(Ask.customer_id).where(Ask.question_id == question_id)))
    assert asked == {people["ola"], people["siv"]}  # not Ida (DK) nor Kai (no consent)

    with sessions() as session, session.begin():
        erase_customer(
            session=session,
            customer_id=people["ola"],
            secret_key=settings.secret_key,
            actor=ACTOR,
        )
    with sessions() as session:
        assert not is_member(session, "nordic", people["ola"])
        left = session.scalars(
            select(SegmentChange).where(SegmentChange.customer_id == people["ola"])
        ).all()
        assert left == []  # the history goes too
    later = _refresh(sessions, settings, tmp_path)  # the snapshots drop her: she stays out
    assert later.refreshed == {"nordic": (0, 0)}
    with sessions() as session:
        members = set(session.scalars(select(SegmentMember.customer_id)))
        assert members == {people["siv"]}
        assert get_segment(session, "nordic").size == 1
    with sessions() as session, session.begin():
        asked_again = on_event(session, people["ola"], "Order Completed", now + timedelta(1))
    assert [a for a in asked_again if a.question_id == question_id] == []


def test_the_cli_saves_refreshes_and_lists(
    sessions, settings: Settings, tmp_path: Path, people: dict[str, int], monkeypatch
):
    import orjson
    from typer.testing import CliRunner

    from tillit.cli.main import app

    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TILLIT_ENV", "test")
    refresh_snapshots(sessions=sessions, data_dir=tmp_path)
    rules = tmp_path / "nordic.json"
    rules.write_bytes(orjson.dumps(NORDIC))
    runner = CliRunner()
    saved = runner.invoke(
        app,
        [
            "analytics",
            "segments",
            "save",
            "nordic",
            "--definition",
            str(rules),
            "--purpose",
            "marketing",
        ],
    )
    assert saved.exit_code == 0, saved.output
    rules.write_text("{not json")
    bad = runner.invoke(
        app,
        [
            "analytics",
            "segments",
            "save",
            "nordic",
            "--definition",
            str(rules),
            "--purpose",
            "marketing",
        ],
    )
    assert bad.exit_code != 0 and "not JSON" in " ".join(bad.output.split())
    refreshed = runner.invoke(
        app, ["analytics", "segments", "refresh", "--engine", "duckdb", "--format", "json"]
    )
    assert refreshed.exit_code == 0, refreshed.output
    assert orjson.loads(refreshed.output)["refreshed"] == {"nordic": {"entered": 2, "left": 0}}
    listed = runner.invoke(app, ["analytics", "segments", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [row] = orjson.loads(listed.output)
    assert (row["key"], row["size"], row["left_out"]) == ("nordic", 2, 1)
    assert row["refreshed_at"] is not None
    table = runner.invoke(app, ["analytics", "segments", "list"])
    assert table.exit_code == 0 and "nordic" in table.output
