"""Dialogues in data requests: the export lists the person's answers and cases; erasure
blanks every free text they wrote or that was written about them, and keeps the scores, asks
and case timings (no longer personal once the customer is a tombstone) for the metrics. An
ask's link to the contact decision that held or sent it goes with the decision (see
``tillit.privacy.rows.delete_rows``). Listed in
``tillit.privacy.areas``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tillit.dialogues.models import Case, CaseNote, Response

ERASED_TABLES = ("dialogue_ask", "dialogue_response", "dialogue_case", "dialogue_case_note")


def export_dialogues(session: Session, customer_id: int) -> dict[str, Any]:
    responses = session.scalars(
        select(Response).where(Response.customer_id == customer_id).order_by(Response.answered_at)
    )
    cases = session.scalars(select(Case).where(Case.customer_id == customer_id).order_by(Case.id))
    return {
        "responses": [
            {
                "question_id": r.question_id,
                "score": r.score,
                "choices": r.choices,
                "text": r.text,
                "follow_up": r.follow_up,
                "channel": r.channel,
                "language": r.language,
                "answered_at": r.answered_at.isoformat(),
            }
            for r in responses
        ],
        "cases": [
            {
                "id": c.id,
                "status": c.status,
                "priority": c.priority,
                "created_at": c.created_at.isoformat(),
                "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
            }
            for c in cases
        ],
    }


def erase_dialogues(session: Session, customer_id: int, needles: list[str]) -> int:
    answers = session.execute(
        update(Response)
        .where(Response.customer_id == customer_id)
        .values(text=None, follow_up=None, choices=None)
    ).rowcount  # type: ignore[attr-defined]
    case_ids = select(Case.id).where(Case.customer_id == customer_id).scalar_subquery()
    notes = session.execute(
        update(CaseNote).where(CaseNote.case_id.in_(case_ids)).values(body="")
    ).rowcount  # type: ignore[attr-defined]
    return int(answers + notes)
