"""quality: measured reports, kept for the staff page

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
        "quality_report",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("measured_at", tillit.storage.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("current_days", sa.Integer(), nullable=False),
        sa.Column(
            "report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_report")),
    )
    op.create_index("ix_quality_report_days_at", "quality_report", ["current_days", "measured_at"])


def downgrade() -> None:
    op.drop_index("ix_quality_report_days_at", table_name="quality_report")
    op.drop_table("quality_report")
