from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tillit.events.lake import connect, export_events
from tillit.events.models import LakeWatermark
from tillit.storage.session import SessionFactory


def test_export_is_incremental_idempotent_and_readable(
    client: TestClient, write_key: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    batch = [
        {
            "type": "track",
            "userId": f"u{n}",
            "event": "Viewed",
            "messageId": f"m{n}",
            "timestamp": (day + timedelta(hours=n * 10)).isoformat(),
        }
        for n in range(6)
    ]
    assert (
        client.post("/v1/batch", json={"batch": batch[:4]}, auth=(write_key, "")).status_code == 200
    )
    first = export_events(sessions=sessions, data_dir=tmp_path)
    assert first.events == 4
    assert sorted(p.parent.name for p in first.files) == ["date=2026-03-01", "date=2026-03-02"]
    assert export_events(sessions=sessions, data_dir=tmp_path).events == 0
    assert client.post("/v1/batch", json={"batch": batch}, auth=(write_key, "")).status_code == 200
    second = export_events(sessions=sessions, data_dir=tmp_path)
    assert second.events == 2
    # A run that died after writing its files but before moving the watermark, repeated:
    with sessions() as session, session.begin():
        session.get(LakeWatermark, "events").last_event_id = first.watermark  # type: ignore[union-attr]
    assert export_events(sessions=sessions, data_dir=tmp_path).events == 2
    lake = connect(tmp_path)
    rows = lake.execute(
        "SELECT message_id, count(*) FROM events GROUP BY ALL ORDER BY message_id"
    ).fetchall()
    assert rows == [(f"m{n}", 1) for n in range(6)]
    days = lake.execute(
        "SELECT date::VARCHAR, count(*) FROM events GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert days == [("2026-03-01", 2), ("2026-03-02", 2), ("2026-03-03", 2)]
    assert lake.execute(
        "SELECT json_extract_string(payload, '$.event') FROM events LIMIT 1"
    ).fetchone() == ("Viewed",)
