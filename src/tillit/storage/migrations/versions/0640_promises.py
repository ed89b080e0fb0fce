"""promises: the company's promises (text per language, kind and parameters, target, scope),
what their measurement found per week and day, every broken instance with its evidence, and the
indicators bound to consent purposes

Revision ID: 0640
Revises: 0610
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0640"
down_revision: str | Sequence[str] | None = "0630"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The column types as they are today, written out here: a migration must not change when the
# live code does.
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _promise_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["promise_id"],
        ["promise.id"],
        name=op.f(f"fk_{table}_promise_id_promise"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "promise",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("texts", JSON, nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("segment_key", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.String(64), nullable=True),
        sa.Column("measured_at", WHEN, nullable=True),
        sa.Column("alerted_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise")),
        sa.UniqueConstraint("key", name=op.f("uq_promise_key")),
    )
    for table, column in (("promise_week", "week"), ("promise_day", "day")):
        op.create_table(
            table,
            sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
            sa.Column("promise_id", BIG_ID, nullable=False),
            sa.Column(column, sa.Date(), nullable=False),
            sa.Column("good", sa.Integer(), nullable=False),
            sa.Column("total", sa.Integer(), nullable=False),
            _promise_fk(table),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("promise_id", column, name=op.f(f"uq_{table}_promise_id_{column}")),
        )
    op.create_table(
        "promise_breach",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("promise_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("evidence_kind", sa.String(16), nullable=False),
        sa.Column("evidence_id", BIG_ID, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("broke_at", WHEN, nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("case_id", BIG_ID, nullable=True),
        _promise_fk("promise_breach"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_promise_breach_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise_breach")),
        sa.UniqueConstraint(
            "promise_id",
            "evidence_kind",
            "evidence_id",
            name=op.f("uq_promise_breach_promise_id_evidence_kind_evidence_id"),
        ),
    )
    op.create_index("ix_promise_breach_customer", "promise_breach", ["customer_id"])
    op.create_table(
        "promise_value_indicator",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("purpose_key", sa.String(64), nullable=False),
        sa.Column("indicator", sa.String(32), nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise_value_indicator")),
        sa.UniqueConstraint("purpose_key", name=op.f("uq_promise_value_indicator_purpose_key")),
    )


def downgrade() -> None:
    op.drop_table("promise_value_indicator")
    op.drop_index("ix_promise_breach_customer", table_name="promise_breach")
    op.drop_table("promise_breach")
    op.drop_table("promise_day")
    op.drop_table("promise_week")
    op.drop_table("promise")
