"""Service-level-objective arithmetic for promises, after OpenSLO, Sloth and Pyrra.

A promise is an objective: ``good / total`` instances kept, over a rolling window of
:data:`WINDOW_DAYS` days, against its target (0.99 is "99 %"). The *error budget* is the share
of instances allowed to break, ``1 - target``; what remains of it is
``1 - (bad / total) / (1 - target)`` (1.0 untouched, 0 spent, below 0 overspent).

The *burn rate* over a window is how fast the budget goes: the share broken divided by the
share allowed (1.0 spends exactly the budget over the whole window). As in Sloth and Pyrra the
alert is multi-window: it fires when both a long and a short window burn faster than a factor,
so it is early (the short window) and not set off by one bad hour (the long one). Sloth's
hour/minute windows for a 30-day objective are scaled to the days Tillit measures in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tillit.analytics.goals import wilson

WINDOW_DAYS = 28
# (long window in days, short window in days, burn-rate factor): a fast burn spends over half
# of a 28-day budget in three days, a slow one three quarters in a week.
ALERT_WINDOWS: tuple[tuple[int, int, float], ...] = ((3, 1, 6.0), (7, 2, 3.0))


@dataclass(frozen=True)
class Share:
    good: int
    total: int

    @property
    def bad(self) -> int:
        return self.total - self.good

    @property
    def kept(self) -> float | None:
        return self.good / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.good, self.total)


def window(days: Mapping[date, tuple[int, int]], *, end: date, length: int) -> Share:
    """Good and total over the ``length`` days ending with ``end`` (inclusive)."""
    start = end - timedelta(days=length - 1)
    chosen = [value for day, value in days.items() if start <= day <= end]
    return Share(sum(g for g, _ in chosen), sum(t for _, t in chosen))


def budget_remaining(share: Share, target: float) -> float:
    if share.total == 0:
        return 1.0
    allowed = 1.0 - target
    if allowed <= 0:
        return 1.0 if share.bad == 0 else float("-inf")
    return 1.0 - (share.bad / share.total) / allowed


def burn_rate(share: Share, target: float) -> float:
    if share.total == 0:
        return 0.0
    allowed = 1.0 - target
    broken = share.bad / share.total
    if allowed <= 0:
        return float("inf") if broken else 0.0
    return broken / allowed


@dataclass(frozen=True)
class Burn:
    long_days: int
    short_days: int
    factor: float
    long_rate: float
    short_rate: float

    @property
    def firing(self) -> bool:
        return self.long_rate >= self.factor and self.short_rate >= self.factor


def burns(
    days: Mapping[date, tuple[int, int]],
    *,
    end: date,
    target: float,
    windows: Sequence[tuple[int, int, float]] = ALERT_WINDOWS,
) -> list[Burn]:
    return [
        Burn(
            long,
            short,
            factor,
            burn_rate(window(days, end=end, length=long), target),
            burn_rate(window(days, end=end, length=short), target),
        )
        for long, short, factor in windows
    ]
