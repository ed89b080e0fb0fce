"""Bulk import over the API: POST a file, a background job imports it, GET its progress."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.server import running_server
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.cli.main import app as cli
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.events import import_jobs
from tillit.events.importing import chunks, run
from tillit.events.models import Event, EventImport, ImportCheckpoint, Source
from tillit.identity.rules import load_rules
from tillit.staff import service as staff
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory

DEFAULTS = Defaults(country="DK", language="da", time_zone="Europe/Copenhagen")


@pytest.fixture
def importer_token(sessions: SessionFactory) -> dict[str, str]:
    with sessions() as session, session.begin():
        plaintext = staff.create_token(
            session=session, name="warehouse", scopes=["events:import"], actor=Actor.system("t")
        ).plaintext
    return {"Authorization": f"Bearer {plaintext}"}


def run_jobs(sessions: SessionFactory, settings: Settings) -> dict[str, int]:
    return import_jobs.run_queued(
        sessions=sessions, data_dir=settings.data_dir, rules=load_rules(), defaults=DEFAULTS
    )


def send(
    client: TestClient,
    token: dict[str, str],
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    """POST a file to the import API, from the source "web shop" unless ``params`` say."""
    return client.post(
        "/api/v1/event-imports",
        params={"source": "web shop", **params},
        content=body,
        headers={**token, **(headers or {})},
    )


def jsonl(messages: list[dict[str, object]]) -> bytes:
    return b"".join(orjson.dumps(m) + b"\n" for m in messages)


PEOPLE = [
    {"type": "identify", "userId": "kunde-1", "traits": {"email": "søren@example.com"}},
    {"type": "track", "userId": "kunde-1", "event": "Køb gennemført"},
    {"type": "page", "anonymousId": "anon-sv", "name": "Varukorg"},
    {"type": "identify", "userId": "klant-2", "anonymousId": "anon-sv"},
    {"type": "track", "userId": "kunde-1"},  # no event name: rejected
    {"type": "screen", "userId": "kunde-3", "name": "Forside"},
]


def test_a_file_is_queued_imported_and_reported(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
) -> None:
    body = jsonl([{**m, "messageId": f"api-{n}"} for n, m in enumerate(PEOPLE)])
    body += b"{not json\n"
    answer = send(
        client,
        importer_token,
        body,
        file_name="uke-47.jsonl",
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert (queued["status"], queued["total_lines"], queued["lines_done"]) == ("queued", 7, 0)
    assert queued["format"] == "jsonl" and queued["size_bytes"] == len(body)
    location = answer.headers["location"]
    assert location.endswith(f"/api/v1/event-imports/{queued['id']}")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0  # not yet

    kept = list(import_jobs.imports_dir(settings.data_dir).iterdir())
    assert [p.suffix for p in kept] == [".jsonl"]
    assert run_jobs(sessions, settings) == {"imports_done": 1, "imports_failed": 0}
    assert not kept[0].exists()  # imported: the file goes, its rejects stay
    done = client.get(location, headers=importer_token).json()
    assert done["status"] == "done" and done["progress"] == 1.0
    assert (done["accepted"], done["rejected"], done["duplicates"]) == (5, 2, 0)
    rejects = client.get(done["rejects_url"], headers=importer_token)
    assert rejects.headers["content-type"].startswith("application/x-ndjson")
    reasons = [orjson.loads(line) for line in rejects.content.splitlines()]
    assert [r["line"] for r in reasons] == [5, 7]
    assert "track needs event" in reasons[0]["reason"] and "not JSON" in reasons[1]["reason"]
    with sessions() as session:
        owners = dict(session.execute(select(Event.message_id, Event.customer_id)).all())
        actions = set(session.scalars(select(AuditEntry.action)))
    assert owners["api-0"] == owners["api-1"] is not None  # resolved to one person
    assert owners["api-2"] == owners["api-3"] != owners["api-0"]  # anonymous visit stitched
    assert {"event_import.queue", "event_import.done"} <= actions

    # The same file again: nothing is stored twice.
    again = send(client, importer_token, body, format="jsonl")
    assert again.status_code == 202
    run_jobs(sessions, settings)
    second = client.get(again.headers["location"], headers=importer_token).json()
    assert (second["accepted"], second["duplicates"], second["rejected"]) == (0, 5, 2)
    listed = client.get("/api/v1/event-imports", headers=importer_token).json()
    assert [i["id"] for i in listed] == [second["id"], done["id"]]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 5


def test_a_csv_file_by_its_content_type(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
) -> None:
    body = (
        b'"type","userId",event,messageId,properties.sku\n'  # quoted names are names too
        b"track,klant-9,Bestelling geplaatst,csv-1,THEE-1\n"
        b"track,klant-9,Bestelling geplaatst,csv-2,THEE-2\n"
    )
    answer = send(client, importer_token, body, headers={"content-type": "text/csv; charset=utf-8"})
    assert answer.status_code == 202 and answer.json()["total_lines"] == 2
    run_jobs(sessions, settings)
    done = client.get(answer.headers["location"], headers=importer_token).json()
    assert (done["status"], done["accepted"], done["lines_done"]) == ("done", 2, 2)


def test_a_file_with_a_time_out_of_range_ends_done_with_that_line_rejected(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
) -> None:
    page = {"type": "page", "anonymousId": "anon-1", "name": "Forside"}
    body = jsonl(
        [
            {**page, "messageId": "ok-1"},
            {**page, "messageId": "early", "timestamp": "0001-01-01T00:00:00+14:00"},
            {**page, "messageId": "nul", "name": "For\u0000side"},
            {**page, "messageId": "ok-2"},
        ]
    )
    answer = send(client, importer_token, body, format="jsonl")
    assert run_jobs(sessions, settings) == {"imports_done": 1, "imports_failed": 0}
    done = client.get(answer.headers["location"], headers=importer_token).json()
    assert (done["status"], done["accepted"], done["rejected"]) == ("done", 2, 2)
    rejects = client.get(done["rejects_url"], headers=importer_token)
    reasons = [orjson.loads(line) for line in rejects.content.splitlines()]
    assert [r["line"] for r in reasons] == [2, 3]
    assert "in UTC" in reasons[0]["reason"] and "(U+0000)" in reasons[1]["reason"]


@pytest.mark.parametrize(
    ("params", "headers", "body", "status", "says"),
    [
        ({"source": "web shop"}, {}, b'{"type":"page"}\n', 422, "format"),
        ({"source": "no such shop", "format": "jsonl"}, {}, b'{"type":"page"}\n', 422, "source"),
        ({"source": "web shop", "format": "xml"}, {}, b"<a/>", 422, "format"),
        ({"source": "web shop", "format": "jsonl"}, {}, b"", 422, "empty"),
        ({"source": "web shop", "format": "csv"}, {}, b"userId,event\nu,x\n", 422, "line 1"),
        ({"source": "web shop", "format": "jsonl"}, {}, b"x" * 2048, 413, "over 1024 bytes"),
    ],
)
def test_bad_requests_get_a_problem_and_keep_nothing(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
    params: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    status: int,
    says: str,
) -> None:
    client.app.state.settings.import_max_bytes = 1024  # type: ignore[attr-defined]
    answer = send(client, importer_token, body, headers=headers, **params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert says in answer.json()["detail"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventImport)) == 0
    assert list(import_jobs.imports_dir(settings.data_dir).iterdir()) == []


def test_the_scope_is_required(
    client: TestClient, sessions: SessionFactory, write_key: str
) -> None:
    url = "/api/v1/event-imports"
    assert client.post(url, params={"source": "web shop"}, content=b"{}").status_code == 401
    with sessions() as session, session.begin():
        plaintext = staff.create_token(
            session=session, name="reader", scopes=["customers:read"], actor=Actor.system("t")
        ).plaintext
    reader = {"Authorization": f"Bearer {plaintext}"}
    assert client.get(url, headers=reader).status_code == 403
    assert client.get(f"{url}/999", headers={**reader}).status_code == 403


def test_an_import_whose_process_died_is_taken_over_and_resumed(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped after its first chunk (the checkpoint says so, the job still says running and
    its heartbeat is old): the next round takes it over and stores the rest, once."""
    monkeypatch.setattr(chunks, "CHUNK_LINES", 4)
    body = jsonl(
        [
            {"type": "track", "userId": f"bruker-{n % 3}", "event": "Visning", "messageId": f"r{n}"}
            for n in range(10)
        ]
    )
    answer = send(client, importer_token, body, format="jsonl")
    job_id = answer.json()["id"]
    real_store = run._store_chunk
    calls: list[int] = []

    def dies_after_one_chunk(*args: object, **kwargs: object) -> None:
        if calls:
            raise SystemExit("the process was killed")  # not an Exception: nothing recorded
        calls.append(1)
        real_store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "_store_chunk", dies_after_one_chunk)
    with pytest.raises(SystemExit):
        run_jobs(sessions, settings)
    monkeypatch.setattr(run, "_store_chunk", real_store)
    middle = client.get(answer.headers["location"], headers=importer_token).json()
    assert (middle["status"], middle["lines_done"], middle["accepted"]) == ("running", 4, 4)
    assert run_jobs(sessions, settings) == {
        "imports_done": 0,
        "imports_failed": 0,
    }  # still fresh: left
    with sessions() as session, session.begin():
        session.execute(
            update(EventImport)
            .where(EventImport.id == job_id)
            .values(heartbeat_at=utcnow() - import_jobs.STALE_AFTER - timedelta(seconds=1))
        )
    assert run_jobs(sessions, settings) == {"imports_done": 1, "imports_failed": 0}
    done = client.get(answer.headers["location"], headers=importer_token).json()
    assert (done["status"], done["accepted"], done["duplicates"]) == ("done", 10, 0)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 10
        assert session.scalar(select(ImportCheckpoint.last_line)) == 10


def test_a_file_that_cannot_be_imported_is_marked_failed(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
) -> None:
    body = jsonl([{"type": "page", "anonymousId": "x", "messageId": "gone"}])
    answer = send(client, importer_token, body, format="jsonl")
    with sessions() as session:
        stored = session.get_one(EventImport, answer.json()["id"]).stored_as
    (import_jobs.imports_dir(settings.data_dir) / stored).unlink()  # say, a disk replaced
    assert run_jobs(sessions, settings) == {"imports_done": 0, "imports_failed": 1}
    failed = client.get(answer.headers["location"], headers=importer_token).json()
    assert failed["status"] == "failed" and "FileNotFoundError" in failed["error"]


def test_the_line_count_of_a_file_without_a_last_newline(tmp_path: Path) -> None:
    async def blocks(*parts: bytes) -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    def saved(*parts: bytes) -> int:
        saving = import_jobs._save(tmp_path / "tail.jsonl", blocks(*parts), limit=99)
        # In a thread of its own: in the whole suite a browser test's loop runs in this one.
        with ThreadPoolExecutor(1) as thread:
            size, lines = thread.submit(asyncio.run, saving).result()
        assert size == sum(map(len, parts))
        return lines

    assert saved(b'{"a":1}\n{"b"', b":2}") == 2
    assert saved(b'{"a":1}\n{"b":2}\n') == 2
    assert saved(b'{"a":1}\n', b'{"b":2}\n', b"") == 2  # an empty block changes nothing


def test_the_servers_jobs_process_imports_a_file_sent_to_it(
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
    tmp_path: Path,
) -> None:
    """End to end: `tillit serve` with its jobs process, a file over HTTP, progress polled
    until the import is done, with no command run by hand."""
    env = {
        "TILLIT_DATABASE_URL": settings.resolved_database_url,
        "TILLIT_DATA_DIR": str(tmp_path / "server"),
        "TILLIT_ENV": "development",
        "TILLIT_JOBS_INTERVAL_SECONDS": "1",
        "TILLIT_SECRET_KEY": settings.secret_key,
    }
    body = jsonl(
        [
            {"type": "track", "userId": f"asiakas-{n % 4}", "event": "Viewed", "messageId": f"e{n}"}
            for n in range(200)
        ]
    )
    with running_server(env=env, log_path=tmp_path / "server.log") as base:
        answer = httpx.post(
            f"{base}/api/v1/event-imports",
            params={"source": "web shop", "file_name": "history.jsonl"},
            content=body,
            headers=importer_token,
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = httpx.get(answer.headers["location"], headers=importer_token).json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
    assert (state["status"], state["accepted"], state["progress"]) == ("done", 200, 1.0)
    with sessions() as session:
        people = session.scalar(select(func.count(func.distinct(Event.customer_id))))
    assert people == 4


def test_the_staff_page_sends_a_file_and_shows_its_progress(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    staff_csrf: str,
) -> None:
    page = client.get("/staff/imports")
    assert page.status_code == 200 and "No imports yet." in page.text
    assert '<option value="web shop">' in page.text
    body = jsonl([{**m, "messageId": f"page-{n}"} for n, m in enumerate(PEOPLE)])
    no_token = client.post(
        "/staff/imports",
        data={"source": "web shop"},
        files={"file": ("uge-48.jsonl", body, "application/octet-stream")},
    )
    assert no_token.status_code == 403
    sent = client.post(
        "/staff/imports",
        data={"source": "web shop", "csrf_token": staff_csrf},
        files={"file": ("uge-48.jsonl", body, "application/octet-stream")},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/staff/imports"
    waiting = client.get("/staff/imports").text
    assert "uge-48.jsonl" in waiting and ">queued<" in waiting
    assert 'http-equiv="refresh"' in waiting  # follows the import by itself
    run_jobs(sessions, settings)
    done = client.get("/staff/imports").text
    assert ">done<" in done and 'value="6"' in done and "6 / 6 lines" in done
    assert 'http-equiv="refresh"' not in done
    with sessions() as session:
        job = session.scalars(select(EventImport)).one()
        assert job.requested_by == "ada@example.com"
    rejects = client.get(f"/staff/imports/{job.id}/rejects")
    assert [orjson.loads(line)["line"] for line in rejects.content.splitlines()] == [5]
    wrong = client.post(
        "/staff/imports",
        data={"source": "web shop", "csrf_token": staff_csrf},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert wrong.status_code == 422 and "file name ending in .jsonl or .csv" in wrong.text


def test_the_cli_imports_what_waits_for_cron(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))
    body = jsonl([{"type": "page", "anonymousId": "anon-cron", "messageId": "cron-1"}])
    answer = send(client, importer_token, body, format="jsonl")
    result = CliRunner().invoke(cli, ["import", "queued"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "imported 1 file(s), 0 failed" in result.output
    done = client.get(answer.headers["location"], headers=importer_token).json()
    assert (done["status"], done["accepted"]) == ("done", 1)


def test_uploads_that_were_never_queued_are_removed_after_an_hour(
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    write_key: str,
    importer_token: dict[str, str],
) -> None:
    directory = import_jobs.imports_dir(settings.data_dir)
    body = b'{"type":"page","anonymousId":"anon-fi","messageId":"fi-1"}\n'
    answer = send(client, importer_token, body, format="jsonl")
    assert answer.status_code == 202
    two_hours_ago = time.time() - 7200
    old_orphan = directory / "0ld0rphan.jsonl"  # its process died before the commit
    young_orphan = directory / "y0ung.csv"  # may be committing right now
    rejects = directory / "0ld0rphan.jsonl.rejects.jsonl"
    for path in (old_orphan, young_orphan, rejects):
        path.write_bytes(b"{}\n")
    for path in (old_orphan, rejects, *directory.glob("*.jsonl")):
        os.utime(path, (two_hours_ago, two_hours_ago))  # the queued upload is old too
    run_jobs(sessions, settings)
    assert not old_orphan.exists()
    assert young_orphan.exists() and rejects.exists()
    done = client.get(answer.headers["location"], headers=importer_token).json()
    assert (done["status"], done["accepted"]) == ("done", 1)  # its old file was imported


def test_staff_make_a_source_from_the_imports_page_and_see_its_key_once(client, sessions, staff_as):
    _admin, csrf = staff_as("admin")
    made = client.post(
        "/staff/sources", data={"csrf_token": csrf, "name": "kassesystem", "channel": "store"}
    )
    assert made.status_code == 200 and "Source <strong>kassesystem</strong> made" in made.text
    key = re.search(r'<code class="break">([^<]+)</code>', made.text)
    assert key
    with sessions() as session:
        source = session.scalars(select(Source).where(Source.name == "kassesystem")).one()
        assert source.channel == "store" and key[1] not in source.write_key_hash
    tracked = client.post(
        "/v1/track", json={"userId": "u1", "event": "Visit", "messageId": "m1"}, auth=(key[1], "")
    )
    assert tracked.status_code == 200  # the key shown is the one that works
    again = client.get("/staff/imports")
    assert key[1] not in again.text  # shown once
    twice = client.post(
        "/staff/sources", data={"csrf_token": csrf, "name": "kassesystem", "channel": "store"}
    )
    assert twice.status_code == 409 and "already exists" in twice.text
    nameless = client.post(
        "/staff/sources", data={"csrf_token": csrf, "name": " ", "channel": "web"}
    )
    assert nameless.status_code == 422 and "give the source a name" in nameless.text
