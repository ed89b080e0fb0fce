"""Dialogues' part when events are stored: an event that triggers a question (``Order
Completed`` -> CSAT two days later) schedules it, in the same transaction as the events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tillit.dialogues.scheduling import on_events
from tillit.dialogues.triggers import TriggerNames
from tillit.events import hooks
from tillit.events.hooks import StoredEvent
from tillit.events.models import EventType


class TriggeredQuestions:
    """The trigger names are cached (see TriggerNames), so a batch that triggers nothing costs
    no query."""

    def __init__(self) -> None:
        self.names = TriggerNames()

    def wanted(self, session: Session) -> frozenset[str]:
        return self.names.get(session)

    def __call__(self, session: Session, events: list[StoredEvent]) -> None:
        names = self.names.get(session)
        if not names:
            return
        on_events(
            session,
            [
                (stored.customer_id, stored.name, stored.timestamp)
                for stored in events
                if stored.type == EventType.track and stored.name in names and stored.customer_id
            ],
        )


hooks.register(TriggeredQuestions())
