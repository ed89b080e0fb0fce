"""What every act shares: the product's session factory and settings, the clock, the people,
the random streams, the profiles the product made of each person, and the running counts."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.demo.simulation.clock import Clock
from tillit.demo.simulation.population import Person
from tillit.demo.simulation.rng import stream
from tillit.identity.rules import IdentityRules
from tillit.storage.session import SessionFactory

ACTOR = Actor.system("tillit demo")


@dataclass
class World:
    sessions: SessionFactory
    settings: Settings
    defaults: Defaults
    rules: IdentityRules
    clock: Clock
    seed: int
    people: list[Person]
    work_dir: Path  # <data dir>/demo: the truth file and scratch files
    # Person index -> the customer ids the product holds for them (store profile first).
    profiles: dict[int, list[int]] = field(default_factory=dict)
    owner: dict[int, int] = field(default_factory=dict)  # customer id -> person index
    counts: Counter[str] = field(default_factory=Counter)
    # What each person was made to do, per person index (channel and category counts).
    injected: dict[int, Counter[str]] = field(default_factory=dict)
    orders: list[tuple[int, datetime, bool]] = field(default_factory=list)  # person, when, web
    erased: set[int] = field(default_factory=set)  # person indexes
    # Person index -> the promises broken on purpose, each with its evidence (the truth).
    broken_promises: dict[int, list[dict[str, object]]] = field(default_factory=dict)

    def rng(self, concern: str) -> random.Random:
        return stream(self.seed, concern)

    def primary(self, person: Person) -> int | None:
        """The profile a person's own actions reach first (their store record, if any)."""
        ids = self.profiles.get(person.index)
        return ids[0] if ids else None

    def everyone_with_profiles(self) -> list[tuple[Person, list[int]]]:
        """People the product knows, and has not erased."""
        return [
            (p, self.profiles[p.index])
            for p in self.people
            if self.profiles.get(p.index) and p.index not in self.erased
        ]
