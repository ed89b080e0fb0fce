"""Analytics' part in erasure and in dialogues.

Erasure: an erased person leaves every segment, with their entered/left history (the counts on
each segment follow at its next refresh; the snapshots leave them out from the next lake round,
so they do not come back). Dialogues: a question naming a segment asks only its members.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tillit.analytics.models import Segment, SegmentChange, SegmentMember
from tillit.analytics.segment_store import is_member
from tillit.dialogues.audience import register_membership
from tillit.privacy.rows import delete_rows

ERASED_TABLES = ("analytics_segment_member", "analytics_segment_change")


def erase_from_segments(session: Session, customer_id: int, needles: list[str]) -> int:
    segments = select(SegmentMember.segment_id).where(SegmentMember.customer_id == customer_id)
    # Recomputed at the next refresh: the size shown must not count the erased person.
    session.execute(update(Segment).where(Segment.id.in_(segments)).values(inputs=None))
    touched = delete_rows(session, SegmentMember, SegmentMember.customer_id == customer_id)
    return touched + delete_rows(session, SegmentChange, SegmentChange.customer_id == customer_id)


register_membership(is_member)
