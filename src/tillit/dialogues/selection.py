"""Next-question selection, pure: priority, staleness of the last answer, expected information
value and a seeded random tie-break, with the reason written out for the Ask.

score = 0.40 * priority/10 + 0.35 * staleness + 0.25 * information + 0.20 * noise

- staleness: 1 when never answered, else days since the last answer / (2 x recontact period),
  at most 1; an old answer is worth refreshing.
- information: how much one more answer is expected to tell. For this customer it halves with
  every answer they already gave to the question; across customers it falls slowly as a
  question collects answers (1 / (1 + log10(1 + total))), so a well-measured question yields
  to one we know little about.
- noise: uniform [0, 1) from a hash of (seed, customer, question, day): reproducible, and
  enough to keep two or three high-priority questions from crowding out the rest.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

WEIGHTS = {"priority": 0.40, "staleness": 0.35, "information": 0.25, "noise": 0.20}


@dataclass(frozen=True, slots=True)
class Candidate:
    question_id: int
    key: str
    priority: int
    recontact_days: int
    last_answer_at: datetime | None = None
    answers_by_customer: int = 0
    answers_total: int = 0


@dataclass(frozen=True, slots=True)
class Choice:
    candidate: Candidate
    score: float
    reason: str


def noise(seed: int, customer_id: int, key: str, now: datetime) -> float:
    digest = hashlib.blake2b(
        f"{seed}:{customer_id}:{key}:{now.date()}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


def score(candidate: Candidate, *, customer_id: int, seed: int, now: datetime) -> Choice:
    if candidate.last_answer_at is None:
        staleness, stale_text = 1.0, "never answered"
    else:
        days = max(0.0, (now - candidate.last_answer_at).total_seconds() / 86400)
        staleness = min(1.0, days / max(1, 2 * candidate.recontact_days))
        stale_text = f"last answered {days:.0f} days ago"
    information = (0.5**candidate.answers_by_customer) / (
        1 + math.log10(1 + candidate.answers_total)
    )
    tie = noise(seed, customer_id, candidate.key, now)
    total = (
        WEIGHTS["priority"] * min(candidate.priority, 10) / 10
        + WEIGHTS["staleness"] * staleness
        + WEIGHTS["information"] * information
        + WEIGHTS["noise"] * tie
    )
    reason = (
        f"asked because: priority {candidate.priority}; {stale_text}; expected "
        f"information {information:.2f} ({candidate.answers_total} answers so far); "
        f"random tie-break {tie:.2f}; score {total:.3f}"
    )
    return Choice(candidate=candidate, score=total, reason=reason)


def choose(
    candidates: list[Candidate], *, customer_id: int, seed: int, now: datetime
) -> Choice | None:
    scored = [score(c, customer_id=customer_id, seed=seed, now=now) for c in candidates]
    return max(scored, key=lambda choice: (choice.score, choice.candidate.key), default=None)
