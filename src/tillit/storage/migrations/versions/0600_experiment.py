"""experiments: definitions and exposures

Revision ID: 0600
Revises: 0560
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tillit.storage.base

revision: str = "0600"
down_revision: str | Sequence[str] | None = "0560"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = tillit.storage.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("variants", JSON, nullable=False),
        sa.Column("control", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(64), nullable=True),
        sa.Column("primary_goal", sa.String(64), nullable=False),
        sa.Column("secondary_goals", JSON, nullable=False),
        sa.Column("guardrails", JSON, nullable=False),
        sa.Column("auto_stop", sa.Boolean(), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("started_by", sa.String(320), nullable=True),
        sa.Column("stopped_at", UTC, nullable=True),
        sa.Column("stopped_by", sa.String(320), nullable=True),
        sa.Column("stop_reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment")),
        sa.UniqueConstraint("key", name=op.f("uq_experiment_key")),
    )
    op.create_table(
        "experiment_exposure",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("experiment_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("exposed_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_exposure_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_experiment_exposure_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_exposure")),
        sa.UniqueConstraint(
            "experiment_id",
            "customer_id",
            "variant",
            name=op.f("uq_experiment_exposure_experiment_id_customer_id_variant"),
        ),
    )
    op.create_index(
        "ix_experiment_exposure_customer", "experiment_exposure", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_experiment_exposure_customer", table_name="experiment_exposure")
    op.drop_table("experiment_exposure")
    op.drop_table("experiment")
