"""Fixtures for the areas whose tests run on every backend (tests/events and tests/identity
import them in their conftest). A fresh database per test, on each backend in the same run:
SQLite in a temp dir, and, when TILLIT_TEST_DATABASE_URL is set, a schema of its own in the
run's private PostgreSQL database (tests/conftest.py), dropped afterwards, so nothing shared on
the server is touched."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.config import Settings, load_settings
from tillit.events.sources import create_source
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

with warnings.catch_warnings():
    # Starlette 1.x nags about httpx 0.28 in its TestClient; the client itself works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TILLIT_TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tillit.db'}"
        return
    # ``database_url`` here is the shared fixture's: this run's private PostgreSQL database.
    schema = f"events_{uuid.uuid4().hex[:12]}"
    admin = make_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, engine: Engine) -> Settings:
    return load_settings(database_url=database_url, data_dir=tmp_path, env="test")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def write_key(sessions: SessionFactory) -> str:
    with sessions() as session, session.begin():
        _, key = create_source(
            session=session, name="web shop", channel=SourceChannel.web, actor=Actor.system("test")
        )
    return key
