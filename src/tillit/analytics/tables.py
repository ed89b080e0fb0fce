"""The information model as Ibis tables on one backend (DuckDB or Spark).

Each function returns a table with the same schema on both engines, read from the event lake or
a snapshot; before the lake or a snapshot exists the table is empty (right schema, no rows), so
an analysis on a new installation answers zero instead of failing. docs/analytics.md describes
every table.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from tillit.analytics.snapshots import BY_NAME, snapshot_path
from tillit.events.lake import SCHEMA as EVENT_SCHEMA
from tillit.events.lake import lake_root

EMPTY_DIR = "analytics-empty"


class Model:
    """The tables of one backend over one data directory. Each table is read once per model
    (a temporary view on Spark, a view on DuckDB), so an analysis joining a table twice reads
    one definition."""

    def __init__(self, backend: BaseBackend, data_dir: Path) -> None:
        self.backend = backend
        self.data_dir = data_dir
        self._read: dict[str, ir.Table] = {}

    # -- raw tables: one per file set --------------------------------------------------------

    def raw_events(self) -> ir.Table:
        """Events as exported, attributed to the profile they had at export time."""
        root = lake_root(self.data_dir)
        # One glob both engines expand (DuckDB, and Hadoop's on Spark); Ibis's PySpark backend
        # takes no list of files. The lake's half-written files end in .tmp, never matched.
        pattern = root / "date=*" / "*.parquet"
        files = [pattern] if any(root.glob("date=*/*.parquet")) else []
        return self._parquet("events", files, EVENT_SCHEMA)

    def snapshot(self, name: str) -> ir.Table:
        snapshot = BY_NAME[name]
        path = snapshot_path(self.data_dir, name)
        return self._parquet(name, [path] if path.exists() else [], snapshot.schema)

    # -- the model ----------------------------------------------------------------------------

    def person_map(self) -> ir.Table:
        return self.snapshot("person_map")

    def events(self) -> ir.Table:
        """Every event with ``person_id``: the surviving profile after identity merges, so one
        person's events on several channels and devices count as one person's."""
        return self._resolve(self.raw_events())

    def customers(self) -> ir.Table:
        """Profiles that are people of their own: merged-away and erased profiles left out."""
        customers = self.snapshot("customers")
        merged = self.person_map().customer_id
        return customers.filter(~customers.customer_id.isin(merged)).rename(person_id="customer_id")

    def identities(self) -> ir.Table:
        return self._resolve(self.snapshot("identities"))

    def consents(self) -> ir.Table:
        """Every consent decision (the history), per person."""
        return self._resolve(self.snapshot("consents"))

    def consent_state(self) -> ir.Table:
        """The current decision per person and purpose: the last record in the chain.

        Latest by a max-then-join rather than ``first(order_by=...)`` over a window, which
        PySpark silently evaluates unordered (ibis 11812)."""
        history = self.snapshot("consents")
        last = history.group_by(["customer_id", "purpose_key"]).aggregate(
            sequence=history.sequence.max()
        )
        current = history.join(last, ["customer_id", "purpose_key", "sequence"])
        return self._resolve(current)

    def preferences(self) -> ir.Table:
        """The current preference document per profile (JSON text)."""
        versions = self.snapshot("preferences")
        last = versions.group_by("customer_id").aggregate(version=versions.version.max())
        return self._resolve(versions.join(last, ["customer_id", "version"]))

    def answers(self) -> ir.Table:
        return self._resolve(self.snapshot("answers"))

    def asks(self) -> ir.Table:
        return self._resolve(self.snapshot("asks"))

    def cases(self) -> ir.Table:
        return self._resolve(self.snapshot("cases"))

    def contact_decisions(self) -> ir.Table:
        return self._resolve(self.snapshot("contact_decisions"))

    def sends(self) -> ir.Table:
        return self._resolve(self.snapshot("sends"))

    def data_requests(self) -> ir.Table:
        return self._resolve(self.snapshot("data_requests"))

    def comment_themes(self) -> ir.Table:
        return self._resolve(self.snapshot("comment_themes"))

    def exposures(self) -> ir.Table:
        """Experiment exposures (who was served which variant, when), per person."""
        return self._resolve(self.snapshot("exposures"))

    # -- helpers ------------------------------------------------------------------------------

    def _resolve(self, table: ir.Table) -> ir.Table:
        """Adds ``person_id``: the profile a merged-away ``customer_id`` now belongs to, or the
        profile itself."""
        people = self.person_map().rename(mapped_customer="customer_id")
        joined = table.left_join(people, table.customer_id == people.mapped_customer)
        # A selection rather than ``drop("mapped_customer")``: Ibis compiles a drop to
        # ``EXCLUDE``, which it never shares as a common table expression, so an analysis using
        # the events several times (each funnel step, goals' meetings and conversions) read and
        # resolved the lake once per use; a selection is one CTE that DuckDB reads once.
        return joined.select(
            *table.columns, person_id=ibis.coalesce(joined.person_id, joined.customer_id)
        )

    def _parquet(self, name: str, files: list[Path], schema: pa.Schema) -> ir.Table:
        if name in self._read:
            return self._read[name]
        if not files:
            files = [self._empty_file(name, schema)]
        table = self.backend.read_parquet(str(files[0]))
        # Both engines read the same Parquet types; casting to the declared schema pins what a
        # partition column or an all-null file might otherwise change.
        wanted = ibis.schema(schema)
        table = table.select(*[table[n].cast(t).name(n) for n, t in wanted.items()])
        self._read[name] = table
        return table

    def _empty_file(self, name: str, schema: pa.Schema) -> Path:
        """A Parquet file with the schema and no rows: reading it keeps both engines on their
        Parquet path instead of an in-memory table each engine types differently."""
        folder = self.data_dir / EMPTY_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.parquet"
        if not path.exists():
            pq.write_table(schema.empty_table(), path)
        return path
