"""The staff home as the jobs process measured it: asking the contact policy about every
customer on every channel takes seconds on large data, so pages read the latest snapshot."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.dialogues.metrics import Row
from tillit.overview.service import (
    CaseLoad,
    ChannelReach,
    Messages,
    NegativeTheme,
    Overview,
    PurposeRate,
    RequestLoad,
    build_overview,
)
from tillit.storage import snapshots

MEASURE_EVERY = timedelta(minutes=5)
KIND, KEY = "overview", ""


def measure_overview(*, session: Session, settings: Settings, now: datetime) -> Overview:
    overview = build_overview(session=session, settings=settings, now=now)
    snapshots.keep(session=session, kind=KIND, key=KEY, measured_at=now, data=_plain(overview))
    return overview


def latest_overview(*, session: Session) -> Overview | None:
    found = snapshots.latest(session=session, kind=KIND, key=KEY)
    return None if found is None else _overview(found.data)


def measure_overview_if_due(
    *, session: Session, settings: Settings, now: datetime
) -> Overview | None:
    latest = latest_overview(session=session)
    if latest is not None and now - latest.measured_at < MEASURE_EVERY:
        return None
    return measure_overview(session=session, settings=settings, now=now)


def _plain(overview: Overview) -> dict[str, Any]:
    plain = dataclasses.asdict(overview)
    plain["measured_at"] = overview.measured_at.isoformat()
    return plain


def _overview(plain: dict[str, Any]) -> Overview:
    messages = plain["messages"]
    return Overview(
        customers=plain["customers"],
        purposes=[PurposeRate(**p) for p in plain["purposes"]],
        reach=[ChannelReach(**r) for r in plain["reach"]],
        messages=Messages(
            sent=messages["sent"],
            held=messages["held"],
            held_by_reason=[(reason, n) for reason, n in messages["held_by_reason"]],
        ),
        nps_by_month=[Row(**row) for row in plain["nps_by_month"]],
        cases=CaseLoad(**plain["cases"]),
        negative_themes=[NegativeTheme(**t) for t in plain["negative_themes"]],
        requests=RequestLoad(**plain["requests"]),
        measured_at=datetime.fromisoformat(plain["measured_at"]),
    )
