"""Two server processes writing to one database at once: every acknowledged event is stored,
none twice, and each person once, even when both processes get the same batch at the same
moment (a client retrying against another worker). On SQLite the processes take turns through
the group commit's lock file (tillit.storage.group); on PostgreSQL the database sorts it out."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tillit.customers.models import Identity
from tillit.events.models import Event
from tillit.storage.session import SessionFactory

from .server import free_port, start_server

pytestmark = pytest.mark.slow

BATCHES = 40  # per sending thread
THREADS = 4


def _batch(thread: int, number: int) -> list[dict[str, object]]:
    return [
        {
            "type": "track",
            "userId": f"u-{(thread * 7 + number * 3 + i) % 23}",
            "anonymousId": f"a-{thread}-{number}-{i % 5}",
            "event": "Viewed",
            "messageId": f"m-{thread}-{number}-{i}",
        }
        for i in range(50)
    ]


def _send(urls: list[str], key: str, thread: int, acked: list[str], failures: list[str]) -> None:
    """Each batch goes to one server and, right after, to the other as a retry."""
    with httpx.Client(auth=(key, ""), timeout=60) as http:
        for number in range(BATCHES):
            batch = _batch(thread, number)
            first = urls[(thread + number) % 2]
            for url in (first, *(u for u in urls if u != first)):
                response = http.post(f"{url}/v1/batch", json={"batch": batch})
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                answer = response.json()
                if answer["accepted"] + answer["duplicates"] != len(batch):
                    failures.append(f"not all accounted for: {answer}")
                acked.extend(str(m["messageId"]) for m in batch)


def test_two_processes_lose_nothing_and_store_nothing_twice(
    database_url: str, tmp_path: Path, write_key: str, sessions: SessionFactory
) -> None:
    servers = []
    try:
        for name in ("a", "b"):
            port = free_port()
            (tmp_path / name).mkdir()
            servers.append(
                (
                    start_server(database_url=database_url, data_dir=tmp_path / name, port=port),
                    f"http://127.0.0.1:{port}",
                )
            )
        urls = [url for _, url in servers]
        acked: list[str] = []
        failures: list[str] = []
        senders = [
            threading.Thread(target=_send, args=(urls, write_key, t, acked, failures))
            for t in range(THREADS)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait()
    assert not failures, failures[:3]
    with sessions() as session:
        stored = Counter(session.scalars(select(Event.message_id)))
        user_ids = Counter(
            session.scalars(select(Identity.value).where(Identity.type == "user_id"))
        )
        people = session.scalar(select(func.count(func.distinct(Event.customer_id))))
    assert set(stored) == set(acked), "an acknowledged event was lost"
    assert len(stored) == THREADS * BATCHES * 50
    assert max(stored.values()) == 1, "an event was stored twice"
    assert len(user_ids) == 23 and max(user_ids.values()) == 1, "a person was created twice"
    assert people is not None and people <= 23
