"""analytics: goals of other kinds than an event: a consent granted to a purpose, a question
answered, a sign-up; the purpose or question a goal names

Revision ID: 0650
Revises: 0610
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0650"
down_revision: str | Sequence[str] | None = "0640"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_goal") as batch:
        batch.add_column(sa.Column("purpose_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("question_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analytics_goal") as batch:
        batch.drop_column("question_key")
        batch.drop_column("purpose_key")
