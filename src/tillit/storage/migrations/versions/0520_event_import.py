"""events: files of events sent to the API, imported by a background job

Revision ID: 0520
Revises: 0510
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tillit.storage.base

revision: str = "0520"
down_revision: str | Sequence[str] | None = "0510"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("event_import_checkpoint") as batch:
        batch.add_column(sa.Column("duplicates", BIG_ID, nullable=False, server_default="0"))
    op.create_table(
        "event_import",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("source_id", BIG_ID, sa.ForeignKey("event_source.id"), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("stored_as", sa.String(100), nullable=False),
        sa.Column("file_key", sa.String(64), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("size_bytes", BIG_ID, nullable=False),
        sa.Column("total_lines", BIG_ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("created_at", tillit.storage.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", tillit.storage.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", tillit.storage.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", tillit.storage.base.UtcDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_event_import_status", "event_import", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_event_import_status", table_name="event_import")
    op.drop_table("event_import")
    with op.batch_alter_table("event_import_checkpoint") as batch:
        batch.drop_column("duplicates")
