"""A fresh database per test: SQLite in a temp dir, and PostgreSQL when
TILLIT_TEST_DATABASE_URL is set (its public schema is emptied first)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.config import Settings, load_settings
from tillit.events.models import Channel
from tillit.events.sources import create_source
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.session import SessionFactory

with warnings.catch_warnings():
    # Starlette 1.x nags about httpx 0.28 in its TestClient; the client itself works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TILLIT_TEST_DATABASE_URL") else [])


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url = os.environ["TILLIT_TEST_DATABASE_URL"]
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'tillit.db'}"


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
            session=session, name="web shop", channel=Channel.web, actor=Actor.system("test")
        )
    return key
