from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text

from tillit.audit.service import Actor
from tillit.customers.models import Identity
from tillit.customers.service import Defaults
from tillit.events import importing, repository
from tillit.events.importing import chunks
from tillit.events.models import Event, ImportCheckpoint, Source
from tillit.events.sources import create_source
from tillit.events.spec import JsonText
from tillit.identity.rules import load_rules
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

DEFAULTS = Defaults(country="DK", language="en", time_zone="Europe/Copenhagen")


def run(
    sessions: SessionFactory, path: Path, *, workers: int | None = None
) -> importing.FileImportReport:
    with sessions() as session:
        source = session.scalars(select(Source)).one()
    return importing.import_file(
        sessions=sessions,
        path=path,
        source=source,
        rules=load_rules(),
        defaults=DEFAULTS,
        workers=workers,
    )


def test_jsonl_import_rejects_resumes_and_is_idempotent(
    sessions: SessionFactory, write_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        orjson.dumps(
            {"type": "track", "userId": f"u{n % 7}", "event": "Bought", "messageId": f"m{n}"}
        ).decode()
        for n in range(25)
    ]
    lines[3] = "{broken"
    lines[10] = orjson.dumps({"type": "track", "userId": "u1"}).decode()
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(chunks, "CHUNK_LINES", 10)
    report = run(sessions, path)
    assert report.accepted == 23
    assert [line for line, _ in report.rejected] == [4, 11]
    assert "track needs event" in report.rejected[1][1]
    with sessions() as session, session.begin():
        checkpoint = session.scalars(select(ImportCheckpoint)).one()
        assert checkpoint.last_line == 25
        checkpoint.last_line = 10  # as if the import had stopped after its first chunk
    resumed = run(sessions, path)
    assert resumed.resumed_from == 10
    assert resumed.duplicates == 14 and resumed.accepted == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 23


def test_csv_import_builds_nested_fields(
    sessions: SessionFactory, write_key: str, tmp_path: Path
) -> None:
    path = tmp_path / "till.csv"
    path.write_text(
        "type,userId,event,messageId,properties.sku,timestamp\n"
        "track,u9,Bought,c1,TEA-1,2026-02-01T10:00:00Z\n"
    )
    assert run(sessions, path).accepted == 1
    with sessions() as session:
        event = session.scalars(select(Event)).one()
    assert event.payload["properties"] == {"sku": "TEA-1"}
    assert event.timestamp.isoformat() == "2026-02-01T10:00:00+00:00"


def _people_file(path: Path) -> None:
    """Anonymous visits, then identifies with e-mail (some junk), tracks, a resend, bad lines."""
    lines = []
    for n in range(400):
        person = n % 37
        if n < 37:
            message = {"type": "page", "anonymousId": f"a{person}", "name": "Home"}
        elif n % 5 == 0:
            email = "test@example.com" if person % 6 == 0 else f"p{person}@example.com"
            message = {
                "type": "identify",
                "userId": f"u{person}",
                "anonymousId": f"a{person}",
                "traits": {"email": email, "name": f"Åse {person}"},
            }
        else:
            message = {"type": "track", "userId": f"u{person}", "event": "Viewed"}
        message["messageId"] = f"m{n}"
        lines.append(orjson.dumps(message).decode())
    lines[120] = lines[60]  # a resend in a later chunk: its links are worked out again
    lines[200] = "{not json"
    lines[300] = orjson.dumps({"type": "track", "userId": "u1", "messageId": "bad"}).decode()
    path.write_text("\n".join(lines) + "\n")


def _snapshot(sessions: SessionFactory) -> tuple[frozenset[frozenset[str]], ...]:
    """Who ended up with whom: events and identities grouped by profile (ids may differ)."""
    with sessions() as session:
        events = session.execute(select(Event.message_id, Event.customer_id)).all()
        identities = session.execute(
            select(Identity.type, Identity.value, Identity.customer_id)
        ).all()
    by_event: dict[object, set[str]] = {}
    for message_id, customer_id in events:
        by_event.setdefault(customer_id, set()).add(message_id)
    by_identity: dict[object, set[str]] = {}
    for kind, value, customer_id in identities:
        by_identity.setdefault(customer_id, set()).add(f"{kind}:{value}")
    return (
        frozenset(frozenset(group) for group in by_event.values()),
        frozenset(frozenset(group) for group in by_identity.values()),
    )


def _in_id_order(sessions: SessionFactory) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Event.message_id).order_by(Event.id)))


def test_parsing_in_worker_processes_stores_what_parsing_inline_stores(
    sessions: SessionFactory, write_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "people.jsonl"
    _people_file(path)
    monkeypatch.setattr(chunks, "CHUNK_LINES", 50)
    inline_engine = make_engine(f"sqlite:///{tmp_path / 'inline.db'}")
    upgrade(inline_engine)
    inline_sessions = make_session_factory(inline_engine)
    with inline_sessions() as session, session.begin():
        create_source(
            session=session, name="shop", channel=SourceChannel.web, actor=Actor.system("t")
        )
    expected = run(inline_sessions, path, workers=0)
    seen: list[int] = []
    with sessions() as session:
        source = session.scalars(select(Source)).one()
    got = importing.import_file(
        sessions=sessions,
        path=path,
        source=source,
        rules=load_rules(),
        defaults=DEFAULTS,
        progress=seen.append,
        workers=2,
    )
    assert (got.accepted, got.duplicates, got.rejected) == (
        expected.accepted,
        expected.duplicates,
        expected.rejected,
    )
    assert (got.accepted, got.duplicates) == (397, 1)
    assert [line for line, _ in got.rejected] == [201, 301]
    assert seen == [50] * 8  # every chunk reported, in order
    assert _snapshot(sessions) == _snapshot(inline_sessions)
    assert _in_id_order(sessions) == _in_id_order(inline_sessions)  # ids follow the file
    junk = [group for group in _snapshot(sessions)[1] if "email:test@example.com" in group]
    assert junk == []  # the junk address linked nobody
    inline_engine.dispose()


def test_workers_skip_blank_lines_and_resume_after_the_checkpoint(
    sessions: SessionFactory, write_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = '{{"type":"track","userId":"kunde-1","event":"Bestilte","messageId":"{}"}}'
    path = tmp_path / "gaps.jsonl"
    path.write_text(
        "\n".join([event.format("a"), event.format("b"), "", " ", "", "", event.format("c")]) + "\n"
    )
    monkeypatch.setattr(chunks, "CHUNK_LINES", 3)
    report = run(sessions, path, workers=1)
    assert (report.accepted, report.rejected) == (3, [])
    with sessions() as session, session.begin():
        checkpoint = session.scalars(select(ImportCheckpoint)).one()
        assert checkpoint.last_line == 7
        checkpoint.last_line = 2
    resumed = run(sessions, path, workers=1)
    assert (resumed.resumed_from, resumed.accepted, resumed.duplicates) == (2, 0, 1)


@pytest.mark.parametrize("workers", [0, 1])
def test_a_line_that_is_json_but_not_an_object_is_rejected_as_such(
    sessions: SessionFactory, write_key: str, tmp_path: Path, workers: int
) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('"hej med dig"\n[1, 2]\n{"type":"page","anonymousId":"x"\n')
    report = run(sessions, path, workers=workers)
    assert [(line, reason.split(":")[0]) for line, reason in report.rejected] == [
        (1, "must be a JSON object"),
        (2, "must be a JSON object"),
        (3, "not JSON"),
    ]


def test_json_text_reads_like_the_object_it_holds_and_decodes_once() -> None:
    text = '{"traits":{"email":"åse@example.com"},"context":{"locale":"nb-NO"}}'
    lazy = JsonText(text)
    assert lazy._decoded is None  # nothing decoded until something is read
    assert lazy.get("traits") == {"email": "åse@example.com"}
    decoded = lazy._decoded
    assert lazy.get("missing") is None and "context" in lazy and len(lazy) == 2
    assert lazy._decoded is decoded  # decoded once
    assert dict(lazy) == orjson.loads(text) and lazy == orjson.loads(text)


@pytest.mark.parametrize("workers", [0, 1])
def test_a_file_that_repeats_stored_events_stores_only_the_new_ones(
    sessions: SessionFactory,
    write_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """Chunks are first stored without looking resends up; a chunk that meets one is rolled
    back and stored again with the look-up, so nothing is stored twice and nobody is created
    twice, and the counts are exact. With a worker, on SQLite, the first try is the copy
    from the staging file (ingest.store_staged), the second reads the messages back."""
    monkeypatch.setattr(chunks, "CHUNK_LINES", 4)

    def write(name: str, numbers: range) -> Path:
        path = tmp_path / name
        lines = [
            orjson.dumps(
                {
                    "type": "identify",
                    "userId": f"person-{n}",
                    "traits": {"email": f"person{n}@example.com"},
                    "messageId": f"m{n}",
                }
            )
            for n in numbers
        ]
        path.write_bytes(b"\n".join(lines) + b"\n")
        return path

    looked_up: list[int] = []
    look_up = repository.stored_ids
    monkeypatch.setattr(
        repository,
        "stored_ids",
        lambda bulk, source, ids: looked_up.append(len(ids)) or look_up(bulk, source, ids),
    )
    first = run(sessions, write("first.jsonl", range(0, 6)), workers=workers)
    assert looked_up == []  # new events: no look-up
    # m4, m5 are stored already
    second = run(sessions, write("second.jsonl", range(4, 12)), workers=workers)
    assert looked_up == [4, 4]  # the first chunk again, and from then on every chunk
    assert (first.accepted, first.duplicates) == (6, 0)
    assert (second.accepted, second.duplicates) == (6, 2)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 12
        emails = list(session.scalars(select(Identity.value).where(Identity.type == "email")))
    assert sorted(emails) == sorted(f"person{n}@example.com" for n in range(12))


def test_repeats_within_a_chunk_and_scratch_files(
    sessions: SessionFactory, write_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A messageId twice in one chunk is stored once and counted as a duplicate; the workers'
    staging files are gone when the import ends, and so is the owners' temporary table."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(chunks, "CHUNK_LINES", 5)
    messages = [
        {"type": "identify", "userId": "kund-7", "traits": {"email": "kund7@example.com"}},
        {"type": "track", "userId": "kund-7", "event": "Köpte"},
        {"type": "track", "userId": "kund-7", "event": "Köpte"},  # the same messageId again
        {"type": "page", "anonymousId": "anon-sv", "name": "Hem"},
        {"type": "identify", "userId": "klant-3", "anonymousId": "anon-nl"},
        {"type": "page", "anonymousId": "anon-nl", "name": "Winkelwagen"},
    ]
    ids = ["s1", "s2", "s2", "s3", "s4", "s5"]
    path = tmp_path / "repeats.jsonl"
    lines = [orjson.dumps({**m, "messageId": i}) for m, i in zip(messages, ids, strict=True)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = run(sessions, path, workers=1)
    assert (report.accepted, report.duplicates) == (5, 1)
    assert list(scratch.iterdir()) == []
    with sessions() as session:
        owners = dict(session.execute(select(Event.message_id, Event.customer_id)).all())
        if session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
            temporary = session.execute(
                text("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
            ).all()
            assert temporary == []
    assert owners["s1"] == owners["s2"] and owners["s1"] is not None
    assert owners["s3"] is None  # nobody has said who anon-sv is
    assert owners["s5"] == owners["s4"] != owners["s1"]  # anon-nl was identified


@pytest.mark.parametrize("workers", [0, 1])
def test_lines_with_times_out_of_range_or_nul_are_rejected_alone(
    sessions: SessionFactory, write_key: str, tmp_path: Path, workers: int
) -> None:
    def line(n: int, **fields: object) -> bytes:
        message = {"type": "track", "userId": "u1", "event": "Bought", "messageId": f"m{n}"}
        return orjson.dumps({**message, **fields})

    lines = [
        line(1),
        line(2, timestamp="0001-01-01T00:00:00+14:00"),
        line(3, timestamp="9999-12-31T23:59:59-14:00"),
        line(4, timestamp="2026-01-01T00:00:00Z", sentAt="0001-01-02T00:00:00Z"),
        line(5, properties={"note": "a\u0000b"}),
        line(6, messageId=6),
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = run(sessions, path, workers=workers)
    assert report.accepted == 2
    reasons = dict(report.rejected)
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "cannot be expressed in UTC" in reasons[2] and "in UTC" in reasons[3]
    assert "more than 1 day after it was received" in reasons[4]
    assert reasons[5] == "properties.note must not contain the NUL character (U+0000)"
    with sessions() as session:
        assert sorted(session.scalars(select(Event.message_id))) == ["6", "m1"]


def test_a_csv_cell_with_nul_rejects_its_row_alone(
    sessions: SessionFactory, write_key: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "type,userId,event,messageId,properties.note\n"
        "track,u1,Bought,c1,fine\n"
        "track,u1,Bought,c2,bad\x00note\n"
        "track,u2,Bought,c3,fine\n",
        encoding="utf-8",
    )
    report = run(sessions, path)
    assert report.accepted == 2
    assert report.rejected == [(3, "properties.note must not contain the NUL character (U+0000)")]
