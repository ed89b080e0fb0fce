"""staff: failed sign-ins per account and per client address (the sign-in throttle)

Revision ID: 0530
Revises: 0520
Create Date: 2026-12-06 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tillit.storage.base

revision: str = "0530"
down_revision: str | Sequence[str] | None = "0520"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", tillit.storage.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", tillit.storage.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttle")),
    )


def downgrade() -> None:
    op.drop_table("signin_throttle")
