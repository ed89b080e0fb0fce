"""The outbox's public calls in one place (also re-exported by :mod:`tillit.outbox`)."""

from tillit.outbox.delivery import send_due
from tillit.outbox.queue import Outgoing, enqueue, states_by_source
from tillit.outbox.report import DeliveryReport

__all__ = ["DeliveryReport", "Outgoing", "enqueue", "send_due", "states_by_source"]
