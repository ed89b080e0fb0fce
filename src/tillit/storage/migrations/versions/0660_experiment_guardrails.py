"""experiments: stop on a decisive primary result (optional), and the people left out for being
outside the audience segment

Revision ID: 0660
Revises: 0610
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0660"
down_revision: str | Sequence[str] | None = "0650"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The column types as they are today, written out here: a migration must not change when the
# live code does.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("experiment") as batch:
        batch.add_column(
            sa.Column("stop_on_decision", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "experiment_outside_audience",
        sa.Column("experiment_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("first_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_outside_audience_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_experiment_outside_audience_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "customer_id", name=op.f("pk_experiment_outside_audience")
        ),
    )
    op.create_index(
        op.f("ix_experiment_outside_audience_customer_id"),
        "experiment_outside_audience",
        ["customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_experiment_outside_audience_customer_id"),
        table_name="experiment_outside_audience",
    )
    op.drop_table("experiment_outside_audience")
    with op.batch_alter_table("experiment") as batch:
        batch.drop_column("stop_on_decision")
