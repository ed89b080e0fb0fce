"""Fatigue rules, pure: may this question be put to this customer now, and if not, why not?

Rules, in order (the first that applies is the reason):

1. ``declined``   the customer declined this question once: never again
2. ``open``       the same question is already waiting for an answer
3. ``cooldown``   any ask that reached the customer (answered, declined, expired or still open)
                  inside the workspace cool-down, on any channel; recovery asks are exempt
                  themselves but count for the others
4. ``recontact``  the same question reached them within its own recontact period

The benchmark (``benchmarks/dialogue_fatigue.py``) checks the same rules over a year of
simulated triggers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tillit.dialogues.models import COUNTED, AskStatus


@dataclass(frozen=True, slots=True)
class PastAsk:
    question_id: int
    created_at: datetime
    status: str


def blocked_by(
    history: Iterable[PastAsk],
    *,
    question_id: int,
    recontact_days: int,
    now: datetime,
    cooldown: timedelta,
    exempt: bool = False,
) -> str | None:
    """The fatigue rule that stops this ask, or None when it may go ahead."""
    past = list(history)
    same = [a for a in past if a.question_id == question_id]
    if any(a.status == AskStatus.declined for a in same):
        return "declined"
    if any(a.status == AskStatus.pending for a in same):
        return "open"
    counted = [a for a in past if a.status in COUNTED]
    if not exempt and any(a.created_at > now - cooldown for a in counted):
        return "cooldown"
    recontact = timedelta(days=recontact_days)
    if not exempt and any(
        a.created_at > now - recontact for a in counted if a.question_id == question_id
    ):
        return "recontact"
    return None
