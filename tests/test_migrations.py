"""The migrations build what the models declare, and the newest one can be undone and redone."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from tillit.storage import make_engine, upgrade
from tillit.storage.base import Base
from tillit.storage.migrate import alembic_config, current_revision, head_revision

PARTIAL = {
    "ix_event_customer_channel_time": "customer_id IS NOT NULL",
    "ix_event_unowned_user": "customer_id IS NULL AND user_id IS NOT NULL",
    "ix_event_unowned_anonymous": "customer_id IS NULL AND user_id IS NULL",
}


def test_the_migrated_database_is_what_the_models_declare(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_event_indexes_are_partial(engine: Engine) -> None:
    """Alembic's comparison does not look at an index's condition, so this does."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event'"
            )
        else:
            rows = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'event'"
            )
        found = {name: sql for name, sql in rows if name in PARTIAL}
    assert set(found) == set(PARTIAL)
    for name, condition in PARTIAL.items():
        normal = found[name].replace("(", "").replace(")", "")
        assert normal.endswith(f"WHERE {condition}"), found[name]


def test_the_newest_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'round-trip.db'}")
    upgrade(engine)
    head = head_revision()
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def down_to(revision: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

    def checkpoint_columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("event_import_checkpoint")}

    def suggestion_columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("identity_match_suggestion")}

    def question_columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("dialogue_question")}

    down_to("-1")
    assert current_revision(engine) != head
    upgrade(engine)
    assert current_revision(engine) == head
    down_to("0600")
    assert "analytics_segment_member" not in inspect(engine).get_table_names()
    assert "segment_key" not in question_columns()
    upgrade(engine)
    assert "analytics_segment_member" in inspect(engine).get_table_names()
    assert "segment_key" in question_columns()
    down_to("0550")
    assert "evidence" not in suggestion_columns()
    upgrade(engine)
    assert "evidence" in suggestion_columns()
    down_to("0540")
    assert "analytics_goal" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "analytics_goal" in inspect(engine).get_table_names()
    down_to("0560")
    assert "experiment_exposure" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert {"experiment", "experiment_exposure"} <= set(inspect(engine).get_table_names())
    down_to("0530")
    assert "snapshot" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "snapshot" in inspect(engine).get_table_names()
    down_to("0520")
    assert "signin_throttle" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "signin_throttle" in inspect(engine).get_table_names()
    down_to("0510")
    assert "event_import" not in inspect(engine).get_table_names()
    assert "duplicates" not in checkpoint_columns()
    upgrade(engine)
    assert "event_import" in inspect(engine).get_table_names()
    assert "duplicates" in checkpoint_columns()
    down_to("0500")
    assert "ix_event_customer_time" in {i["name"] for i in inspect(engine).get_indexes("event")}
    upgrade(engine)
    names = {i["name"] for i in inspect(engine).get_indexes("event")}
    assert set(PARTIAL) <= names and "ix_event_customer_time" not in names
    down_to("0400")  # back to the old indexes
    assert {"ix_event_user_id", "ix_event_customer_time"} <= {
        i["name"] for i in inspect(engine).get_indexes("event")
    }
    engine.dispose()


# A migration may use Alembic, SQLAlchemy, the standard library and storage's own column types;
# never live domain code, whose meaning would change the migration's (0100 and 0300 once did).
MIGRATION_IMPORTS_ALLOWED = ("alembic", "sqlalchemy", "tillit.storage.base", "__future__")


def test_migrations_import_no_live_domain_code() -> None:
    import ast
    import sys

    versions = Path(alembic_config("sqlite://").get_main_option("script_location") or "")
    found = []
    for path in sorted((versions / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                allowed = top in sys.stdlib_module_names or name.startswith(
                    MIGRATION_IMPORTS_ALLOWED
                )
                if not allowed:
                    found.append(f"{path.name}: {name}")
    assert len(list((versions / "versions").glob("*.py"))) >= 8
    assert found == []
