"""The simulated calendar: ``days`` days ending at the start of the current UTC hour, so a
fresh demo always shows the year just past (and cases opened in its last days are overdue
now, as they would be in a real inbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Clock:
    end: datetime
    days: int

    @classmethod
    def ending_now(cls, days: int, now: datetime | None = None) -> Clock:
        now = now or datetime.now(UTC)
        return cls(end=now.replace(minute=0, second=0, microsecond=0), days=days)

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def at(self, day: float, hour: float = 0.0) -> datetime:
        """Day ``day`` (0 = the first) at ``hour`` o'clock UTC, never later than the end."""
        midnight = self.start.replace(hour=0)
        return min(midnight + timedelta(days=day, hours=hour), self.end)

    def day_of(self, moment: datetime) -> float:
        return (moment - self.start.replace(hour=0)) / timedelta(days=1)
