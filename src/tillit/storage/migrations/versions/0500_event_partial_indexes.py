"""events: partial indexes, so that an insert updates three indexes of ``event`` instead of five

An attributed event needs only the two customer indexes (the timeline, unmerge, erasure); an
event nobody owns yet needs only the look-up by its user or anonymous id (stitching). See
tillit.events.models.Event.

Revision ID: 0500
Revises: 0400
Create Date: 2026-11-23 21:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0500"
down_revision: str | Sequence[str] | None = "0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED = "customer_id IS NOT NULL"
UNOWNED_USER = "customer_id IS NULL AND user_id IS NOT NULL"
UNOWNED_ANONYMOUS = "customer_id IS NULL AND user_id IS NULL"


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    for name in (
        "ix_event_customer_time",
        "ix_event_customer_channel_time",
        "ix_event_user_id",
        "ix_event_anonymous_id",
    ):
        op.drop_index(name, table_name="event")
    op.create_index(
        "ix_event_customer_time", "event", ["customer_id", "timestamp", "id"], **_where(OWNED)
    )
    op.create_index(
        "ix_event_customer_channel_time",
        "event",
        ["customer_id", "channel", "timestamp", "id"],
        **_where(OWNED),
    )
    op.create_index("ix_event_unowned_user", "event", ["user_id"], **_where(UNOWNED_USER))
    op.create_index(
        "ix_event_unowned_anonymous", "event", ["anonymous_id"], **_where(UNOWNED_ANONYMOUS)
    )


def downgrade() -> None:
    for name in (
        "ix_event_customer_time",
        "ix_event_customer_channel_time",
        "ix_event_unowned_user",
        "ix_event_unowned_anonymous",
    ):
        op.drop_index(name, table_name="event")
    op.create_index("ix_event_customer_time", "event", ["customer_id", "timestamp", "id"])
    op.create_index(
        "ix_event_customer_channel_time", "event", ["customer_id", "channel", "timestamp", "id"]
    )
    op.create_index("ix_event_user_id", "event", ["user_id"])
    op.create_index("ix_event_anonymous_id", "event", ["anonymous_id"])
