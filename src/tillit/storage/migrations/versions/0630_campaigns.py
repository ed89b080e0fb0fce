"""campaigns: definitions with their approval, planning rounds with the held counts, and one row
per audience member planned (scheduled or held, with the reason and the relevance explanation)

Revision ID: 0630
Revises: 0620
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0630"
down_revision: str | Sequence[str] | None = "0620"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("experiment_key", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("key", name=op.f("uq_campaign_key")),
    )
    op.create_table(
        "campaign_round",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", BIG_ID, nullable=False),
        sa.Column("occurrence", sa.String(32), nullable=False),
        sa.Column("planned_at", WHEN, nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("allowed", sa.Integer(), nullable=False),
        sa.Column("relevant", sa.Integer(), nullable=False),
        sa.Column("scheduled", sa.Integer(), nullable=False),
        sa.Column("held", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_round_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_round")),
        sa.UniqueConstraint(
            "campaign_id", "occurrence", name=op.f("uq_campaign_round_campaign_id_occurrence")
        ),
    )
    op.create_table(
        "campaign_message",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", BIG_ID, nullable=False),
        sa.Column("round_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("group", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("not_before", WHEN, nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", JSON, nullable=False),
        sa.Column("decision_id", BIG_ID, nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("planned_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_message_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["campaign_round.id"],
            name=op.f("fk_campaign_message_round_id_campaign_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_campaign_message_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["contact_decision.id"],
            name=op.f("fk_campaign_message_decision_id_contact_decision"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_message")),
        sa.UniqueConstraint(
            "round_id", "customer_id", name=op.f("uq_campaign_message_round_id_customer_id")
        ),
    )
    op.create_index(
        "ix_campaign_message_customer", "campaign_message", ["customer_id", "planned_at"]
    )
    op.create_index("ix_campaign_message_campaign", "campaign_message", ["campaign_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_campaign_message_campaign", table_name="campaign_message")
    op.drop_index("ix_campaign_message_customer", table_name="campaign_message")
    op.drop_table("campaign_message")
    op.drop_table("campaign_round")
    op.drop_table("campaign")
