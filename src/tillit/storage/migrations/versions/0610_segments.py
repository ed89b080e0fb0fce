"""analytics: segments (versioned rule trees), their materialised membership and its entered/left
history; a dialogue question may name a segment to ask only its members

Revision ID: 0610
Revises: 0600
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0610"
down_revision: str | Sequence[str] | None = "0600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The column types as they are today, written out here: a migration must not change when the
# live code does.
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "analytics_segment",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("purpose_key", sa.String(64), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("left_out", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.String(64), nullable=True),
        sa.Column("refreshed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_segment")),
        sa.UniqueConstraint("key", name=op.f("uq_analytics_segment_key")),
    )
    op.create_table(
        "analytics_segment_version",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("segment_id", BIG_ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["analytics_segment.id"],
            name=op.f("fk_analytics_segment_version_segment_id_analytics_segment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_segment_version")),
        sa.UniqueConstraint(
            "segment_id", "version", name=op.f("uq_analytics_segment_version_segment_id_version")
        ),
    )
    op.create_index(
        op.f("ix_analytics_segment_version_segment_id"), "analytics_segment_version", ["segment_id"]
    )
    op.create_table(
        "analytics_segment_member",
        sa.Column("segment_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("entered_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["analytics_segment.id"],
            name=op.f("fk_analytics_segment_member_segment_id_analytics_segment"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_analytics_segment_member_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "segment_id", "customer_id", name=op.f("pk_analytics_segment_member")
        ),
    )
    op.create_index(
        op.f("ix_analytics_segment_member_customer_id"), "analytics_segment_member", ["customer_id"]
    )
    op.create_table(
        "analytics_segment_change",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("segment_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("change", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["analytics_segment.id"],
            name=op.f("fk_analytics_segment_change_segment_id_analytics_segment"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_analytics_segment_change_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_segment_change")),
    )
    op.create_index(
        op.f("ix_analytics_segment_change_segment_id"), "analytics_segment_change", ["segment_id"]
    )
    op.create_index(
        op.f("ix_analytics_segment_change_customer_id"), "analytics_segment_change", ["customer_id"]
    )
    # A plain ADD/DROP COLUMN (SQLite has both): a batch copy of the table would trip the
    # foreign keys that point at it.
    op.add_column("dialogue_question", sa.Column("segment_key", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("dialogue_question", "segment_key")
    op.drop_table("analytics_segment_change")
    op.drop_table("analytics_segment_member")
    op.drop_table("analytics_segment_version")
    op.drop_table("analytics_segment")
