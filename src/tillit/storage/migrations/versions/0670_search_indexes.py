"""customers: the search box finds an identity by its start through an index on its value

Revision ID: 0670
Revises: 0610
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0670"
down_revision: str | Sequence[str] | None = "0660"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostgreSQL compares by its pattern operators, so LIKE 'start%' can use the index under
    # any collation; SQLite's search compares bytes, its default.
    op.create_index(
        "ix_identity_value",
        "identity",
        ["value"],
        postgresql_ops={"value": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_identity_value", table_name="identity")
