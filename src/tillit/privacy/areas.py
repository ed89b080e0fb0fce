"""Every area's part in data requests, in one place: the section each adds to the export, the
eraser for its tables (with every table it answers for, whatever it does to it: deletes,
blanks or keeps as anonymous counts) and the erasers for its files under the data directory.

An area that stores something about a person adds its hooks here; a test fails when a table
with a foreign-key path to ``customer`` is named by no eraser. Erasers return how many rows
they touched; ``needles`` are the person's contact points, name and free-text trait values,
for scrubbing text that mentions them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tillit.analytics import privacy as analytics
from tillit.campaigns import privacy as campaigns
from tillit.dialogues import privacy as dialogues
from tillit.events import privacy as events
from tillit.experiments import privacy as experiments
from tillit.feedback import privacy as feedback
from tillit.outbox import privacy as outbox
from tillit.promises import privacy as promises

Exporter = Callable[[Session, int], Any]
Eraser = Callable[[Session, int, list[str]], int]
FileEraser = Callable[[Path, int, list[str]], int]

EXPORTERS: dict[str, Exporter] = {
    "campaigns": campaigns.export_campaign_messages,
    "dialogues": dialogues.export_dialogues,
    "events": events.export_events,
    "experiments": experiments.export_exposures,
    "feedback": feedback.export_feedback,
    "outbox": outbox.export_outbox,
    "promises": promises.export_breaches,
}
ERASERS: dict[str, Eraser] = {
    "analytics_segments": analytics.erase_from_segments,
    "campaigns": campaigns.erase_campaign_messages,
    "dialogues": dialogues.erase_dialogues,
    "events": events.erase_events,
    "experiments": experiments.erase_exposures,
    "insight_feedback": feedback.erase_feedback,
    "outbox": outbox.erase_outbox,
    "promises": promises.erase_breaches,
}
ERASER_TABLES: dict[str, tuple[str, ...]] = {
    "analytics_segments": analytics.ERASED_TABLES,
    "campaigns": campaigns.ERASED_TABLES,
    "dialogues": dialogues.ERASED_TABLES,
    "events": events.ERASED_TABLES,
    "experiments": experiments.ERASED_TABLES,
    "insight_feedback": feedback.ERASED_TABLES,
    "outbox": outbox.ERASED_TABLES,
    "promises": promises.ERASED_TABLES,
}
FILE_ERASERS: dict[str, FileEraser] = {
    "event_lake": events.erase_from_lake,
    "import_rejects": events.erase_from_rejects,
}
