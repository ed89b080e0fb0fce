"""Running the simulation: the acts in order, once per data directory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from tillit.config import Settings
from tillit.customers.models import Customer
from tillit.customers.service import Defaults
from tillit.demo.simulation.acts import (
    campaigns,
    consent,
    contact,
    customers,
    dialogues,
    events,
    experiments,
    feedback,
    goals,
    matching,
    message_frequency,
    privacy,
    profiles,
    promises,
)
from tillit.demo.simulation.clock import Clock
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.population import build_population
from tillit.demo.simulation.world import World
from tillit.identity.rules import load_rules
from tillit.storage.session import SessionFactory

TRUTH_FILE = "truth.jsonl"
DONE_FILE = "simulated.json"
Act = Callable[[World, Callable[[int, int], None]], None]
ACTS: tuple[tuple[str, Act], ...] = (
    ("Store records", customers.act),
    ("Events on six channels", events.act),
    ("Profiles", profiles.act),
    ("Consents and preferences", consent.act),
    # A harmful variant, for the jobs round's guardrail to stop: after the consents it acts
    # on, before the messages that must respect its unsubscribes.
    ("A harmful messaging experiment", message_frequency.act),
    ("Newsletters", contact.act),
    ("Campaigns", campaigns.act),
    ("Dialogues and cases", dialogues.act),
    ("Feedback", feedback.act),
    # At the year's end, after a life of messages and answers for the erasure to remove.
    ("Data requests", privacy.act),
    ("Matching store and web shop", matching.act),
    ("A checkout experiment", experiments.act),
    ("Goals", goals.act),
    # Last: known breaches of the company's promises, in the truth file for evaluation.
    ("Broken promises", promises.act),
)


@dataclass
class Report:
    simulated: bool  # False: this data directory was simulated before (or holds customers)
    reason: str = ""
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)  # act -> wall, cpu s
    truth: Path | None = None  # the latent truth, for evaluation (the product never reads it)


def truth_path(data_dir: Path) -> Path:
    return data_dir / "demo" / TRUTH_FILE


def simulate(
    *,
    sessions: SessionFactory,
    settings: Settings,
    defaults: Defaults,
    options: Options = Options(),
    progress: Callable[[str, int, int], None] | None = None,
    now: datetime | None = None,
    acts: tuple[tuple[str, Act], ...] = ACTS,
) -> Report:
    """Simulate ``options`` into an empty database, once: a second run finds the record of
    the first in the data directory (or customers in the database) and does nothing.
    ``now`` ends the simulated year (default: the present); ``acts`` are run in order."""
    work_dir = settings.data_dir / "demo"
    done = work_dir / DONE_FILE
    if done.exists():
        return Report(False, f"already simulated ({done})")
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(Customer)):
            return Report(False, "the database already holds customers")
    started = time.perf_counter()
    world = World(
        sessions=sessions,
        settings=settings,
        defaults=defaults,
        rules=load_rules(),
        clock=Clock.ending_now(options.days, now),
        seed=options.seed,
        people=build_population(options.customers, seed=options.seed, days=options.days),
        work_dir=work_dir,
    )
    work_dir.mkdir(parents=True, exist_ok=True)
    timings = {}
    for title, act in acts:
        begun, cpu = time.perf_counter(), time.process_time()
        act(world, _reporter(progress, title))
        timings[title] = {
            "wall": round(time.perf_counter() - begun, 2),
            "cpu": round(time.process_time() - cpu, 2),
        }
    truth = truth_path(settings.data_dir)
    _write_truth(world, truth)
    report = Report(
        True,
        seconds=time.perf_counter() - started,
        counts=dict(world.counts),
        timings=timings,
        truth=truth,
    )
    summary = {
        "options": options.__dict__,
        "seconds": round(report.seconds, 2),
        "timings": timings,
        "counts": report.counts,
    }
    done.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return report


def _reporter(
    progress: Callable[[str, int, int], None] | None, title: str
) -> Callable[[int, int], None]:
    return (lambda done, total: progress(title, done, total)) if progress else (lambda *_: None)


def _write_truth(world: World, path: Path) -> None:
    """One line per person. An erased person keeps only their number: the truth file must
    not bring back what the erasure removed."""
    with path.open("wb") as handle:
        for person in world.people:
            line: dict[str, Any]
            if person.index in world.erased:
                line = {"index": person.index, "erased": True}
            else:
                ids = world.profiles.get(person.index, [])
                line = {
                    **person.truth(),
                    "customer_ids": ids,
                    "duplicate_of": ids if person.kind == "duplicate" and len(ids) == 2 else None,
                    "injected": dict(sorted(world.injected.get(person.index, {}).items())),
                    "broken_promises": world.broken_promises.get(person.index, []),
                }
            handle.write(orjson.dumps(line) + b"\n")
    path.chmod(0o600)
