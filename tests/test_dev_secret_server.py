"""In development the CLI and the running server sign with one secret: a link printed by
`tillit links create` opens the preference centre on `tillit serve` (it answered 410 when each
process drew its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine

from tests.server import running_server
from tillit.audit.service import Actor
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.storage.session import SessionFactory


def test_a_link_made_by_the_cli_opens_on_the_running_server(
    database_url: str, engine: Engine, sessions: SessionFactory, defaults: Defaults, tmp_path: Path
):
    with sessions() as session, session.begin():
        customer = create_customer(
            session=session,
            defaults=defaults,
            actor=Actor.system("tests"),
            data=CustomerCreate(
                name="Karen Prøvesen",
                locale="da",
                identities=[IdentityCreate(type="email", value="karen@example.com")],
            ),
        )
        customer_id = customer.id
    env = {
        "TILLIT_ENV": "development",
        "TILLIT_DATA_DIR": str(tmp_path),
        "TILLIT_DATABASE_URL": database_url,
        "TILLIT_JOBS_INTERVAL_SECONDS": "0",
        "TILLIT_SECRET_KEY": "",
    }
    with running_server(env=env, log_path=tmp_path / "server.log") as base:
        printed = subprocess.run(
            [sys.executable, "-m", "tillit", "links", "create", str(customer_id)],
            env={**os.environ, **env, "TILLIT_BASE_URL": base},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        assert printed.startswith(f"{base}/p/")
        page = httpx.get(printed, timeout=10)
    assert page.status_code == 200, page.text[:300]
    assert "Karen" in page.text
    assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600
