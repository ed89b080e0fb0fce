"""Schemathesis against the OpenAPI document: no 5xx, and every answer as documented.

Each operation gets a bounded number of generated requests (valid and invalid), on whichever
database the suite runs on, with an admin token (the /v1/* calls with a source's write key).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.config import load_settings
from tillit.events.sources import create_source
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel

EXAMPLES = 10  # random requests per operation, after the coverage phase's boundary cases
# Not negative_data_rejection: pydantic's lax mode takes "5" for 5 and 0 for a date-time, and
# the tracking API ignores what it does not use (Segment's rules), so it would fail at random.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
    checks.unsupported_method,
]


# An event file is text; JSON Lines are sent as they are generated, like text/plain.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


class CurrentApp:
    """The ASGI app schemathesis calls: whichever app the running test made (on this run's
    database). Schemathesis keeps the app it loaded the schema from, in copies of the schema
    too, so the app behind it is swapped instead."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _load_schema(current: CurrentApp) -> Any:
    # The document needs no database: read it from an app that never connects.
    current.app = create_app(
        load_settings(env="test", database_url="sqlite://", secret_key="x" * 40)
    )
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", current)
    current.app.state.engine.dispose()
    current.app = None
    return loaded


# Loaded at collection, not with schemathesis.pytest.from_fixture: its lazy loading uses a
# pytest internal that pytest 9 removed (Node._nodeid).
current_app = CurrentApp()
schema = _load_schema(current_app)


@pytest.fixture
def credentials(
    client: TestClient, sessions: SessionFactory, admin_headers: dict[str, str]
) -> Iterator[dict[str, str]]:
    with sessions() as session, session.begin():
        _, key = create_source(
            session=session, name="fuzz", channel=SourceChannel.web, actor=Actor.system("test")
        )
    basic = base64.b64encode(f"{key}:".encode()).decode()
    current_app.app = client.app
    yield {"bearer": admin_headers["Authorization"], "basic": f"Basic {basic}"}
    current_app.app = None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests every run: a red run is a change, not a dice roll
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_as_documented(case: schemathesis.Case, credentials: dict[str, str]) -> None:
    tracking = case.path.startswith("/v1/")
    authorization = credentials["basic" if tracking else "bearer"]
    case.call_and_validate(headers={"Authorization": authorization}, checks=CHECKS)
