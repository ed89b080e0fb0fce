"""What a channel's sender does with one prepared message, and how it says it went wrong.

A transport sends one message in two steps (``start``, then ``finish``, which returns the
provider's id once the provider accepted it), or raises:

- :class:`Refused`: the provider refused it for good (SMTP 5xx, gateway 4xx): ``bounced``;
- :class:`TryAgain`: this message failed, the next may not (SMTP 4xx): retried later;
- :class:`Down`: the provider cannot be reached at all: this message is retried later and the
  rest of the batch is given back untried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tillit.outbox.store import Claimed


class DeliveryError(Exception):
    """Why a message was not sent, in words for staff (kept as ``last_error``)."""


class Refused(DeliveryError):
    pass


class TryAgain(DeliveryError):
    pass


class Down(DeliveryError):
    pass


@dataclass(frozen=True)
class Prepared:
    """A claimed message with everything the transport needs, looked up before sending."""

    message: Claimed
    address: str  # the contact point: an e-mail address, a phone number, a device id …
    address_type: str  # its identity type
    point_hash: str  # its keyed hash, as the contact policy's failure log names it
    message_id: str  # stable for this row: the Message-ID header, the gateway's idempotency key
    why_url: str  # the customer's preference centre: "why did I get this?"
    unsubscribe_url: str | None  # one-click unsubscribe (marketing and dialogue messages)
    had_failures: bool = False  # the point failed before: a delivery clears that


class Transport(Protocol):
    def start(self, item: Prepared) -> None:
        """Everything short of handing the message over (SMTP: the envelope and the data
        without its closing "."); may raise. Runs while the previous message is recorded."""

    def finish(self, item: Prepared) -> str:
        """Hand the message over (called only once the previous one is recorded); the
        provider's id for it once it accepted it."""

    def close(self) -> None: ...
