"""The analytics engine: one Ibis backend, DuckDB embedded by default or PySpark.

Every analysis is an Ibis expression, so the same code runs on both; nothing here writes SQL for
one engine. Spark is imported only when chosen (it needs Java and the ``spark`` extra).
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

import ibis
from ibis.backends import BaseBackend

from tillit.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("duckdb", "spark")
# Small data on a few cores: Spark's default of 200 shuffle partitions mostly schedules empty
# tasks (a goals query on the demo took several times longer with it).
SPARK_SHUFFLE_PARTITIONS = 4

_spark_lock = threading.Lock()
_spark: dict[str, Any] = {}


def connect(settings: Settings, engine: str | None = None) -> BaseBackend:
    """An Ibis backend for ``engine`` (default: ``settings.analytics_engine``)."""
    chosen = engine or settings.analytics_engine
    if chosen == "duckdb":
        return ibis.duckdb.connect()
    if chosen == "spark":
        return ibis.pyspark.connect(spark_session(settings))
    raise ValueError(f"unknown analytics engine {chosen!r}: choose one of {', '.join(ENGINES)}")


def spark_session(settings: Settings) -> SparkSession:
    """The process's one SparkSession (Spark allows one per JVM), made on first use.

    Time zone UTC for the session and the JVM, so timestamps read from Parquet (stored in UTC)
    are truncated to days and weeks in UTC on Spark as on DuckDB; the warehouse directory under
    the data directory, so nothing is written where the process happens to start; no web UI.
    Identity matching (Splink on Spark) reuses this session: Splink's string-similarity
    functions (Jaro-Winkler, Damerau-Levenshtein) are a jar that must be on the classpath from
    the start, so it is added here.
    """
    with _spark_lock:
        session = _spark.get("session")
        if session is not None:
            return session
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        warehouse = (settings.data_dir / "spark-warehouse").resolve()
        scratch = (settings.data_dir / "spark-tmp").resolve()
        scratch.mkdir(parents=True, exist_ok=True)
        utc = "-Duser.timezone=UTC"
        session = (
            SparkSession.builder.master(settings.spark_master)
            .appName("tillit-analytics")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", utc)
            .config("spark.executor.extraJavaOptions", utc)
            .config("spark.sql.warehouse.dir", str(warehouse))
            .config("spark.local.dir", str(scratch))
            .config("spark.sql.shuffle.partitions", str(SPARK_SHUFFLE_PARTITIONS))
            .config("spark.default.parallelism", str(SPARK_SHUFFLE_PARTITIONS))
            .config("spark.ui.enabled", "false")
            .config("spark.jars", similarity_jar_location())
            # Python workers (for the few operations Ibis runs as UDFs) from this interpreter.
            .config("spark.pyspark.python", sys.executable)
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        session.sparkContext.setCheckpointDir(str(scratch / "checkpoints"))
        _spark["session"] = session
        return session


def stop_spark() -> None:
    """Stops the process's SparkSession, if one was made (tests, and the CLI on exit)."""
    with _spark_lock:
        session = _spark.pop("session", None)
    if session is not None:
        session.stop()
