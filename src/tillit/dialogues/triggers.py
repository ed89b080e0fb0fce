"""Which event names trigger a question, cached: every tracking batch needs them.

``TriggerNames.get`` reads the active questions' ``trigger_event`` values at most once per
``TTL_SECONDS``, and again at once after this process commits a change to a question (an ORM
insert, update or delete of ``Question``). A change made by another process (the CLI, another
server worker) is seen within ``TTL_SECONDS``.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from tillit.dialogues.models import Question

TTL_SECONDS = 10.0
_CHANGED = "tillit_questions_changed"
# Bumped after a commit that changed a question: every cache reloads on its next use.
_generation = 0


class TriggerNames:
    """One per application (``app.state``); safe to share between threads (at worst two
    threads load at the same time)."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._loaded: tuple[float, int, frozenset[str]] | None = None

    def get(self, session: Session) -> frozenset[str]:
        loaded, now = self._loaded, time.monotonic()
        if loaded is not None and now - loaded[0] < self.ttl and loaded[1] == _generation:
            return loaded[2]
        generation = _generation  # taken before the query: a change during it reloads again
        names = frozenset(
            name
            for name in session.scalars(
                select(Question.trigger_event).where(
                    Question.trigger_event.is_not(None), Question.active.is_(True)
                )
            )
            if name is not None
        )
        self._loaded = (now, generation, names)
        return names


@event.listens_for(Question, "after_insert")
@event.listens_for(Question, "after_update")
@event.listens_for(Question, "after_delete")
def _question_changed(_mapper: Any, _connection: Any, question: Question) -> None:
    session = object_session(question)
    if session is not None:
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _reload_after_commit(session: Session) -> None:
    global _generation
    if session.info.pop(_CHANGED, False):  # a rolled-back change only costs a reload
        _generation += 1
