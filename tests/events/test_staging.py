from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tillit.events import staging
from tillit.events.spec import parse_message
from tillit.storage.bulk import _sqlite_utc
from tillit.vocabulary import SourceChannel

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RAW = [
    {"type": "identify", "userId": "kunde-1", "traits": {"name": "Søren Ærø"}},
    {"type": "track", "userId": "kund-2", "event": "Köpte", "timestamp": "2026-03-01T10:00:00Z"},
    {"type": "page", "anonymousId": "anon-nb", "name": "Forside", "context": {"channel": "mobile"}},
    {"type": "screen", "anonymousId": "anon-nl", "timestamp": "2026-03-01T11:30:00.123456+01:00"},
    {"type": "alias", "userId": "user-en", "previousId": "anon-nb"},
]


@pytest.mark.parametrize("bind", [_sqlite_utc, None], ids=["sqlite", "other"])
def test_messages_come_back_as_they_were_written(tmp_path: Path, bind: object) -> None:
    messages = [
        parse_message(r, type_=None, default_channel=SourceChannel.store, received_at=RECEIVED)
        for r in RAW
    ]
    path = tmp_path / "chunk.db"
    assert staging.write(path, messages, bind) == 5  # type: ignore[arg-type]
    back, timestamps = staging.read(path, bound=bind is not None)
    for before, after in zip(messages, back, strict=True):
        assert after._replace(raw=dict(after.raw)) == before
        assert after.timestamp.tzinfo is UTC
    bound = [_sqlite_utc(m.timestamp) for m in messages]
    assert timestamps == (bound if bind else None)
    assert back[2].channel is SourceChannel.app and back[3].timestamp.hour == 10
