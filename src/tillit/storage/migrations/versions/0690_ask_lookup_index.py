"""dialogues: an index for "is this question already planned for this customer?"

Revision ID: 0690
Revises: 0680
Create Date: 2026-12-07 23:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0690"
down_revision: str | Sequence[str] | None = "0680"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_dialogue_ask_customer_question",
        "dialogue_ask",
        ["customer_id", "question_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_dialogue_ask_customer_question", table_name="dialogue_ask")
