"""Fixtures for the consent tests on top of the shared ones in tests/conftest.py (one migrated
database per run, emptied after each test): settings with the consent tests' own secret key
and HTTPS base URL (secure cookies and signed links), an app client and fictional customers."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.config import Settings, load_settings
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.storage.session import SessionFactory

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2; the httpx-based client still works as documented.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "consent-tests-secret-key-0123456789abcdef"
ACTOR = Actor.system("tests")
DEFAULTS = Defaults(country="DK", language="en", time_zone="Europe/Copenhagen")


@pytest.fixture
def session(sessions: SessionFactory) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        env="test",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=SECRET,
        base_url="https://tillit.example.com",
    )


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, base_url="https://tillit.example.com") as client:
        yield client
    app.state.engine.dispose()


def make_customer(
    session: Session,
    *,
    name: str,
    email: str,
    phone: str | None = None,
    locale: str = "en",
    traits: dict[str, str] | None = None,
) -> int:
    identities = [IdentityCreate(type="email", value=email)]
    if phone:
        identities.append(IdentityCreate(type="phone", value=phone))
    customer = create_customer(
        session=session,
        defaults=DEFAULTS,
        actor=ACTOR,
        data=CustomerCreate(name=name, locale=locale, identities=identities, traits=traits or {}),
    )
    session.commit()
    return customer.id


@pytest.fixture
def anna(session: Session) -> int:
    return make_customer(
        session,
        name="Anna Testesen",
        email="anna@example.com",
        phone="+45 20 12 34 56",
        locale="da",
        traits={"note": "Prefers the blue wool socks"},
    )


@pytest.fixture
def bram(session: Session) -> int:
    return make_customer(session, name="Bram de Proef", email="bram@example.org", locale="nl")
