"""outbox: every message to send, its state, attempts and claim; the contact points a message
could not reach, for the contact policy's reachable check

Revision ID: 0620
Revises: 0610
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0620"
down_revision: str | Sequence[str] | None = "0610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The column types as they are today, written out here: a migration must not change when the
# live code does.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("purpose_key", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("decision_id", BIG_ID, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("not_before", WHEN, nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("provider_id", sa.String(300), nullable=True),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_outbox_message_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["contact_decision.id"],
            name=op.f("fk_outbox_message_decision_id_contact_decision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    op.create_index("ix_outbox_message_due", "outbox_message", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_message_customer", "outbox_message", ["customer_id"])
    op.create_index(op.f("ix_outbox_message_source"), "outbox_message", ["source"])
    op.create_table(
        "contact_delivery_failure",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("point_hash", sa.String(64), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("failed_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_contact_delivery_failure_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_delivery_failure")),
    )
    op.create_index(
        "ix_contact_delivery_failure_customer",
        "contact_delivery_failure",
        ["customer_id", "channel"],
    )


def downgrade() -> None:
    op.drop_index("ix_contact_delivery_failure_customer", table_name="contact_delivery_failure")
    op.drop_table("contact_delivery_failure")
    op.drop_index(op.f("ix_outbox_message_source"), table_name="outbox_message")
    op.drop_index("ix_outbox_message_customer", table_name="outbox_message")
    op.drop_index("ix_outbox_message_due", table_name="outbox_message")
    op.drop_table("outbox_message")
