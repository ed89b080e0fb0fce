"""The outbox: every message Tillit sends, queued once (by its dedupe key) and sent once.

Planners (campaigns, anything that decides to write to customers) call :func:`enqueue` with
finished :class:`Outgoing` messages; the jobs process (or ``tillit outbox send``) calls
:func:`send_due`, which sends e-mail over SMTP and every other channel through the company's
gateway, records each send for the contact policy's caps, retries failures with back-off and
tells the policy about bounces. :func:`states_by_source` counts a planner's messages by state.
"""

from tillit.outbox.delivery import send_due
from tillit.outbox.models import OutboxMessage, OutboxState
from tillit.outbox.queue import Outgoing, enqueue, state_counts, states_by_source
from tillit.outbox.report import DeliveryReport

__all__ = [
    "DeliveryReport",
    "OutboxMessage",
    "OutboxState",
    "Outgoing",
    "enqueue",
    "send_due",
    "state_counts",
    "states_by_source",
]
