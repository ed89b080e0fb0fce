"""promises: a broken instance names its campaign, and its team (a case's assignee) in full;
campaign messages are found by their decision

Revision ID: 0680
Revises: 0670
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0680"
down_revision: str | Sequence[str] | None = "0670"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_breach") as batch:
        batch.add_column(sa.Column("campaign", sa.String(64), nullable=True))
        # A case's assignee is up to 200 characters.
        batch.alter_column(
            "team", existing_type=sa.String(64), type_=sa.String(200), existing_nullable=True
        )
    op.create_index("ix_campaign_message_decision", "campaign_message", ["decision_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_message_decision", table_name="campaign_message")
    with op.batch_alter_table("promise_breach") as batch:
        batch.alter_column(
            "team", existing_type=sa.String(200), type_=sa.String(64), existing_nullable=True
        )
        batch.drop_column("campaign")
