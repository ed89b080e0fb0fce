"""A 2xx means committed: SIGKILL the server mid-load, restart it, and find every acknowledged
event exactly once, including after the client resends what it was never told about."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tillit.events.models import Event
from tillit.storage.session import SessionFactory

from .server import free_port, start_server

pytestmark = pytest.mark.slow


def _load(
    url: str, key: str, acked: list[str], sent: list[list[str]], stop: threading.Event
) -> None:
    with httpx.Client(auth=(key, ""), timeout=10) as http:
        number = 0
        while not stop.is_set():
            ids = [f"load-{number}-{i}" for i in range(100)]
            number += 1
            sent.append(ids)
            batch = [
                {"type": "track", "userId": f"u-{i % 37}", "event": "Load", "messageId": m}
                for i, m in enumerate(ids)
            ]
            try:
                response = http.post(f"{url}/v1/batch", json={"batch": batch})
            except httpx.HTTPError:
                return  # the server died under us: this batch was never acknowledged
            if response.status_code == 200:
                acked.extend(ids)


def test_acknowledged_events_survive_sigkill(
    database_url: str, tmp_path: Path, write_key: str, sessions: SessionFactory
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(database_url=database_url, data_dir=tmp_path, port=port)
    acked: list[str] = []
    sent: list[list[str]] = []
    stop = threading.Event()
    loader = threading.Thread(target=_load, args=(url, write_key, acked, sent, stop))
    loader.start()
    try:
        deadline = time.monotonic() + 20
        while len(acked) < 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait()
    finally:
        stop.set()
        loader.join()
    assert len(acked) >= 3000
    server = start_server(database_url=database_url, data_dir=tmp_path, port=port)
    try:
        # The client resends the batch it never heard about and, for good measure, the first.
        with httpx.Client(auth=(write_key, ""), timeout=10) as http:
            for ids in (sent[-1], sent[0]):
                batch = [
                    {"type": "track", "userId": "u-r", "event": "Load", "messageId": m} for m in ids
                ]
                assert http.post(f"{url}/v1/batch", json={"batch": batch}).status_code == 200
    finally:
        server.terminate()
        server.wait()
    with sessions() as session:
        stored = Counter(session.scalars(select(Event.message_id)))
    assert not set(acked) - set(stored), "an acknowledged event was lost"
    assert max(stored.values()) == 1, "an event was stored twice"
    assert set(sent[-1]) <= set(stored)
