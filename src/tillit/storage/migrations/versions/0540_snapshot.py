"""storage: snapshots of slow measurements (data quality, the staff home), kept for pages

Revision ID: 0540
Revises: 0530
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tillit.storage.base

revision: str = "0540"
down_revision: str | Sequence[str] | None = "0530"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "snapshot",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("measured_at", tillit.storage.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot")),
    )
    op.create_index("ix_snapshot_kind_key_at", "snapshot", ["kind", "key", "measured_at"])


def downgrade() -> None:
    op.drop_index("ix_snapshot_kind_key_at", table_name="snapshot")
    op.drop_table("snapshot")
