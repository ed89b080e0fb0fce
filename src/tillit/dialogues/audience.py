"""Who a question may be put to: a question that names a segment (``Question.segment_key``)
asks only the segment's members.

Segments belong to the analytics area, a layer above dialogues, which registers the membership
check here when it is imported (``tillit.analytics.privacy``); it is imported by name when first
needed, as consent does with the areas' erasers. Without a check a question naming a segment
asks no one: an audience that cannot be confirmed is not assumed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tillit.dialogues.models import Question
from tillit.late_registry import LateRegistry

MembershipCheck = Callable[[Session, str, int], bool]  # (session, segment key, customer) -> member
CHECKS: LateRegistry[MembershipCheck] = LateRegistry("tillit.analytics.privacy")
register_membership = CHECKS.add


def may_ask(session: Session, question: Question, customer_id: int) -> bool:
    if not question.segment_key:
        return True
    checks = CHECKS.entries()
    return bool(checks) and checks[0](session, question.segment_key, customer_id)
