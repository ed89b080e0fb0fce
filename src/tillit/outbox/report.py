"""What one round of sending did, message by message: the counts the jobs process logs."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class DeliveryReport:
    """What one :func:`send_due` did, message by message."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0  # failed this time, queued again with a back-off
    failed: int = 0  # failed on the last attempt
    bounced: int = 0
    held: int = 0  # the contact policy said no at the moment of sending
    deferred: int = 0  # the contact policy said later (quiet hours, a cap)
    returned: int = 0  # claimed but not tried: the provider was down
    lost_lease: int = 0  # sent, but another sender had taken the message over
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        """Count what ``other`` counted too (a batch prepared on another thread)."""
        for f in fields(self):
            if f.name != "errors":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.errors.extend(other.errors)

    def counts(self) -> dict[str, int]:
        return {
            f"outbox_{f.name}": getattr(self, f.name) for f in fields(self) if f.name != "errors"
        }
