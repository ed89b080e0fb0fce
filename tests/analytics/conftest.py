"""The analytics engines as a fixture: every test that takes ``backend`` runs on DuckDB and on
Spark (local mode, one SparkSession for the whole test session: it takes seconds to start)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ibis.backends import BaseBackend

from tillit.analytics.engine import ENGINES, connect, stop_spark
from tillit.config import Settings, load_settings

# Tests over Parquet files only (no database) give the same answer in the PostgreSQL pass of
# `make test`; they are skipped there, not run twice. Tests that touch the database run in both.
parquet_only = pytest.mark.skipif(
    bool(os.environ.get("TILLIT_TEST_DATABASE_URL")),
    reason="reads Parquet only: already run in the SQLite pass",
)


@pytest.fixture(scope="session")
def analytics_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data_dir: Path = tmp_path_factory.mktemp("analytics")
    yield load_settings(env="test", data_dir=data_dir, spark_master="local[2]")
    stop_spark()  # the JVM goes with the test session


@pytest.fixture(params=ENGINES)
def backend(request: pytest.FixtureRequest, analytics_settings: Settings) -> BaseBackend:
    return connect(analytics_settings, request.param)
