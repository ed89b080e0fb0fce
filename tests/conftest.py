"""Shared fixtures: a real, migrated database (SQLite by default, PostgreSQL when
TILLIT_TEST_DATABASE_URL names one) and the app called in-process."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.config import Settings, load_settings
from tillit.customers.service import Defaults
from tillit.staff import service as staff
from tillit.staff.models import StaffUser
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.models import metadata
from tillit.storage.session import SessionFactory

TEST_DATABASE_URL = os.environ.get("TILLIT_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{data_dir / 'test.db'}"
        return
    # A database of our own, so parallel runs sharing one server cannot disturb each other.
    with own_postgres_database() as url:
        yield url


@contextmanager
def own_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server (TILLIT_TEST_DATABASE_URL), dropped after."""
    name = f"tillit_test_{uuid.uuid4().hex[:10]}"
    server_url = make_url(TEST_DATABASE_URL)
    dsn = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path, engine: Engine) -> Settings:
    # ``engine`` first: the database is migrated, and its seeded rows noted, before a test that
    # only has the settings (a CLI run, a served app) can write to it.
    return load_settings(
        env="test",
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        base_url="http://testserver",
        default_country="DK",
    )


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    # Not from ``settings``: an area may override settings per test (tests/consent does).
    engine = make_engine(database_url)
    upgrade(engine)
    _SEEDED.update(_rows_of(engine))  # before any test writes
    yield engine
    engine.dispose()


_SEEDED: dict[str, list[dict[str, object]]] = {}


def _rows_of(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """What the migrations seeded (the consent catalogue, the built-in questions), so each test
    can start from exactly that."""
    rows = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            found = [dict(row) for row in connection.execute(table.select()).mappings()]
            if found:
                rows[table.name] = found
    return rows


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that used the database leaves it as migrated (cheaper than a new one per test)."""
    if "engine" not in request.fixturenames:
        yield
        return
    engine: Engine = request.getfixturevalue("engine")  # taken now, so it outlives this teardown
    yield
    for attempt in range(1, CLEAN_ATTEMPTS + 1):
        try:
            _reset(engine)
            return
        except OperationalError:
            # A server a test started may leave a jobs process finishing its round for a moment:
            # on PostgreSQL its reads and our TRUNCATE can deadlock. Try again once it is done.
            if attempt == CLEAN_ATTEMPTS:
                raise
            time.sleep(0.5 * attempt)


CLEAN_ATTEMPTS = 5


def _reset(engine: Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
        for table in metadata.sorted_tables:  # parents first
            if table.name in _SEEDED:
                connection.execute(table.insert(), _SEEDED[table.name])
        if engine.dialect.name == "postgresql":  # explicit ids do not move the sequences
            for name in _SEEDED:
                if "id" not in metadata.tables[name].c:
                    continue
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )


@pytest.fixture
def traces_of(engine: Engine) -> Callable[..., list[tuple[str, str]]]:
    """``traces_of(*needles)``: every (table, needle) where a row of the database still holds
    one of the needles in any column, for proving that an erasure left nothing behind."""

    def find(*needles: str) -> list[tuple[str, str]]:
        found = []
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    flat = " ".join(str(value) for value in row)
                    found += [(table, needle) for needle in needles if needle in flat]
        return found

    return find


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def defaults(settings: Settings) -> Defaults:
    return Defaults(
        country=settings.default_country,
        language=settings.default_language,
        time_zone=settings.default_time_zone,
    )


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


def make_token(sessions: SessionFactory, *scopes: str) -> str:
    with sessions() as session, session.begin():
        return staff.create_token(
            session=session, name="test", scopes=list(scopes), actor=Actor.system("test")
        ).plaintext


@pytest.fixture
def token_for(sessions: SessionFactory) -> Callable[..., str]:
    """Makes an API token with the given scopes and returns its plaintext."""
    return lambda *scopes: make_token(sessions, *scopes)


@pytest.fixture
def admin_headers(sessions: SessionFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sessions, 'admin')}"}


STAFF_PASSWORD = "correct horse battery staple"


def create_staff(
    sessions: SessionFactory, *, role: str, email: str = "ada@example.com"
) -> StaffUser:
    with sessions() as session, session.begin():
        return staff.create_user(
            session=session,
            email=email,
            name=f"Ada {role.replace('_', ' ').title()}",
            role=role,
            password=STAFF_PASSWORD,
            actor=Actor.system("test"),
        )


def sign_in(client: TestClient, user: StaffUser) -> str:
    """Signs ``client`` in as ``user`` through the real form; returns the session's CSRF token."""
    page = client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/staff/login",
        data={"email": user.email, "password": STAFF_PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/staff"  # the overview
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    listing = client.get("/staff/customers")  # every role may read customers
    session_token = re.search(r'name="csrf_token" value="([^"]+)"', listing.text)
    assert session_token
    return session_token.group(1)


class Inbox:
    """What a loopback SMTP server received, as raw messages."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: its inbox and its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def staff_user(sessions: SessionFactory) -> StaffUser:
    return create_staff(sessions, role="admin")


@pytest.fixture
def staff_csrf(client: TestClient, staff_user: StaffUser) -> str:
    """Signs ``client`` in as the staff user (an admin); returns the session's CSRF token."""
    return sign_in(client, staff_user)


@pytest.fixture
def staff_as(
    client: TestClient, sessions: SessionFactory
) -> Callable[[str], tuple[StaffUser, str]]:
    """``staff_as(role)``: a staff user with that role, ``client`` signed in as them; returns
    the user and the session's CSRF token."""

    def sign_in_as(role: str) -> tuple[StaffUser, str]:
        user = create_staff(sessions, role=role, email=f"{role.replace('_', '-')}@example.com")
        return user, sign_in(client, user)

    return sign_in_as


# Browser fixtures live here so every area's browser tests share one Playwright driver
# (two sync Playwright instances cannot run in one process).
CHROMIUM = os.environ.get("TILLIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()
