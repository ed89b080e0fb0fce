"""The simulation's size and seed (a light module: the CLI reads the defaults at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CUSTOMERS = 1000
DEFAULT_DAYS = 365
DEFAULT_SEED = 2010


@dataclass(frozen=True)
class Options:
    customers: int = DEFAULT_CUSTOMERS  # simulated people (duplicates make more profiles)
    days: int = DEFAULT_DAYS
    seed: int = DEFAULT_SEED
