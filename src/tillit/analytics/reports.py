"""What the staff pages and the API ask of the analytics layer, cached by the data's mark.

An analysis reads only Parquet files (the lake and the snapshots), so its answer can change only
when a file does: :func:`data_mark` hashes the lake's file names, sizes and times and every
snapshot's change fingerprint, and :func:`cached` keeps answers under that mark, in memory and
in ``data_dir/analytics-cache`` (so the jobs process, which warms the default pages after each
lake round with :func:`warm`, and the web workers share them). A page shown after the jobs
round is answered without computing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy.orm import Session

from tillit.analytics import segment_store
from tillit.analytics.cohorts import CohortRow, retention
from tillit.analytics.engine import connect
from tillit.analytics.funnels import MODES, Funnel, FunnelError, Step, StepResult, run_funnel
from tillit.analytics.goal_store import all_goals
from tillit.analytics.goals import EventGoal, by_breakdown, by_channel
from tillit.analytics.properties import PROPERTY_NAME_RULE, bad_property_names
from tillit.analytics.snapshots import FINGERPRINT_FILE, SNAPSHOTS, snapshot_dir
from tillit.analytics.tables import Model
from tillit.config import Settings
from tillit.errors import FieldError, InvalidInput
from tillit.events.lake import lake_root
from tillit.storage.session import SessionFactory

T = TypeVar("T")
CACHE_SIZE = 128
DISK_FILES = 512  # answers kept on disk; the oldest go first
CACHE_DIR = "analytics-cache"
MAX_STEPS = 10
# The funnel shown when none is asked for, where the lake has these events.
SHOP_STEPS = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")

_lock = threading.Lock()
_cache: OrderedDict[str, Any] = OrderedDict()


def data_mark(data_dir: Path) -> str:
    """Changes whenever a file an analysis reads changes."""
    parts: list[Any] = []
    root = lake_root(data_dir)
    if root.exists():
        for path in sorted(root.glob("date=*/*.parquet")):
            stat = path.stat()
            parts.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    for snapshot in SNAPSHOTS:
        stored = snapshot_dir(data_dir, snapshot.name) / FINGERPRINT_FILE
        parts.append(stored.read_text() if stored.exists() else "")
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()


def cached(settings: Settings, key: Sequence[Any], compute: Callable[[Model], T]) -> T:
    """``compute`` over a model of the configured engine, or its answer kept from before for
    the same ``key`` and the same data."""
    mark = data_mark(settings.data_dir)
    full = hashlib.sha256(
        orjson.dumps([settings.analytics_engine, str(settings.data_dir), mark, *key], default=str)
    ).hexdigest()
    with _lock:
        if full in _cache:
            _cache.move_to_end(full)
            return _cache[full]
    stored = settings.data_dir / CACHE_DIR / f"{full}.pickle"
    try:
        # Written by this application into its own data directory, as the database is.
        result = pickle.loads(stored.read_bytes())  # noqa: S301
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        result = compute(Model(connect(settings), settings.data_dir))
        _store(stored, result)
    with _lock:
        _cache[full] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _store(path: Path, result: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        pickle.dump(result, out)
    os.replace(temporary, path)  # whole or not at all: a reader never sees half a file
    files = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in files[:-DISK_FILES]:
        old.unlink(missing_ok=True)


def clear_cache() -> None:
    """Forgets the answers kept in memory (those on disk are keyed by the data's mark)."""
    with _lock:
        _cache.clear()


# -- the answers the pages and the API show --------------------------------------------------


def goal_rows(settings: Settings, session: Session, by: str) -> list[tuple[EventGoal, list[Any]]]:
    """Every defined goal with its rows by ``by`` (channel, language, country, segment, week)."""
    defined = all_goals(session=session)
    segments = segment_store.segment_people(session) if by == "segment" else {}

    def compute(model: Model) -> list[list[Any]]:
        if by == "channel":
            return [by_channel(model, g) for g in defined]
        return [by_breakdown(model, g, by, segments=segments) for g in defined]

    key = ["goals", by, [asdict(g) for g in defined], sorted(segments.items())]
    return list(zip(defined, cached(settings, key, compute), strict=True))


def funnel_rows(settings: Settings, funnel: Funnel) -> list[StepResult]:
    return cached(settings, ["funnel", repr(funnel)], lambda model: run_funnel(model, funnel))


def cohort_rows(settings: Settings, period: str, returning_on: str | None) -> list[CohortRow]:
    return cached(
        settings,
        ["cohorts", period, returning_on],
        lambda model: retention(model, period, returning_on),
    )


def known_events(settings: Settings) -> list[str]:
    return cached(settings, ["event-names"], event_names)


def default_steps(names: Sequence[str]) -> list[str]:
    """The shop's funnel, where the lake has at least two of its steps."""
    chosen = [s for s in SHOP_STEPS if s in names]
    return chosen if len(chosen) >= 2 else []


def warm(settings: Settings, sessions: SessionFactory) -> int:
    """Computes what the analytics pages show first (goals by channel, the default funnel,
    weekly cohorts), so staff opening them after a jobs round wait for nothing."""
    with sessions() as session:
        goal_rows(settings, session, "channel")
    steps = default_steps(known_events(settings))
    if steps:
        funnel_rows(settings, funnel_from([{"event": s} for s in steps]))
    cohort_rows(settings, "week", None)
    return 1


def event_names(model: Model, limit: int = 500) -> list[str]:
    """The event names in the lake, for choosing funnel steps."""
    events = model.events()
    names = events.filter(events.name.notnull()).select("name").distinct().order_by("name")
    return [row["name"] for row in names.limit(limit).to_pyarrow().to_pylist()]


def funnel_from(
    steps: Sequence[Mapping[str, Any]], mode: str = "ordered", within_seconds: int | None = None
) -> Funnel:
    """A funnel from plain data (a form, a JSON body): ``steps`` of ``event``, ``filters`` and
    ``within_seconds``; InvalidInput naming each wrong field."""
    errors = []
    if not 2 <= len(steps) <= MAX_STEPS:
        errors.append(FieldError("steps", f"a funnel has 2 to {MAX_STEPS} steps"))
    if mode not in MODES:
        errors.append(FieldError("mode", f"one of {', '.join(MODES)}"))
    made = []
    for number, step in enumerate(steps, start=1):
        event = str(step.get("event") or "").strip()
        if not event or len(event) > 200:
            errors.append(FieldError(f"steps.{number}.event", "an event name, 1 to 200 characters"))
        filters = step.get("filters") or {}
        if not isinstance(filters, Mapping):
            errors.append(FieldError(f"steps.{number}.filters", "property names and values"))
            filters = {}
        elif bad := bad_property_names(filters):
            errors.append(
                FieldError(f"steps.{number}.filters", f"{bad[0]!r}: {PROPERTY_NAME_RULE}")
            )
            filters = {}
        within = step.get("within_seconds")
        made.append(
            Step(
                event,
                {str(k): str(v) for k, v in filters.items()},
                timedelta(seconds=int(within)) if within else None,
            )
        )
    if errors:
        raise InvalidInput(errors)
    funnel = Funnel(
        steps=tuple(made),
        mode=mode,
        within=timedelta(seconds=within_seconds) if within_seconds else None,
    )
    try:
        funnel.check()
    except FunnelError as error:
        raise InvalidInput(FieldError("funnel", str(error))) from None
    return funnel


def funnel_document(funnel: Funnel, dropped_at: int) -> dict[str, Any]:
    """The segment rule that keeps a funnel's drop-outs at step ``dropped_at``."""
    document: dict[str, Any] = {
        "kind": "funnel_dropped",
        "mode": funnel.mode,
        "dropped_at": dropped_at,
        "steps": [
            {
                "event": step.event,
                **({"filters": dict(step.filters)} if step.filters else {}),
                **(
                    {"within_seconds": int(step.within.total_seconds())}
                    if step.within is not None
                    else {}
                ),
            }
            for step in funnel.steps
        ],
    }
    if funnel.within is not None:
        document["within_seconds"] = int(funnel.within.total_seconds())
    return document
