"""events: one customer index; the whole timeline merges the per-channel ranges

``ix_event_customer_channel_time`` serves one channel's timeline and, one range per channel
merged, the whole of it (tillit.events.timeline), as well as every look-up by person; the
second customer index only cost each insert an index update.

Revision ID: 0510
Revises: 0500
Create Date: 2026-11-23 22:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0510"
down_revision: str | Sequence[str] | None = "0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED = "customer_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_event_customer_time", table_name="event")


def downgrade() -> None:
    op.create_index(
        "ix_event_customer_time",
        "event",
        ["customer_id", "timestamp", "id"],
        sqlite_where=sa.text(OWNED),
        postgresql_where=sa.text(OWNED),
    )
