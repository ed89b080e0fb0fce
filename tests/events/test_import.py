from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from tillit.customers.service import Defaults
from tillit.events import importer
from tillit.events.models import Event, ImportCheckpoint, Source
from tillit.identity.rules import load_rules
from tillit.storage.session import SessionFactory

DEFAULTS = Defaults(country="DK", language="en", time_zone="Europe/Copenhagen")


def run(sessions: SessionFactory, path: Path) -> importer.FileImportReport:
    with sessions() as session:
        source = session.scalars(select(Source)).one()
    return importer.import_file(
        sessions=sessions, path=path, source=source, rules=load_rules(), defaults=DEFAULTS
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
    monkeypatch.setattr(importer, "CHUNK_LINES", 10)
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
