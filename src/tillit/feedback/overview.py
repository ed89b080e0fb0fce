"""What the themes explorer and the API show: volume, sentiment, weekly trend, examples per
language, alerts and unspoken needs. Read-only, except ``refresh_alerts``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tillit.feedback.browse import FeedbackFilter
from tillit.feedback.models import Feedback, ThemeAlert
from tillit.feedback.service import _pure_theme, active_themes
from tillit.insight import ThemeObservation, detect_alerts, find_unspoken_needs, theme_trends
from tillit.insight.trends import period_start

WEEK = timedelta(weeks=1)
EXAMPLES_PER_LANGUAGE = 2


@dataclass
class ThemeSummary:
    id: int
    label: str
    staff_renamed: bool
    keywords: dict[str, list[str]]
    volume: int
    negative_share: float
    mean_sentiment: float
    # (week start, volume, negative share), oldest first, no gaps
    trend: list[tuple[datetime, int, float]] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    alerts: list[ThemeAlert] = field(default_factory=list)
    unspoken: bool = False


def _observations(
    session: Session, where: FeedbackFilter = FeedbackFilter()
) -> list[tuple[Feedback, ThemeObservation]]:
    query = where.applied(select(Feedback).where(Feedback.theme_id.is_not(None)))
    rows: Iterable[Feedback] = session.scalars(query)
    return [(f, ThemeObservation(f.created_at, str(f.theme_id), f.sentiment_label)) for f in rows]  # type: ignore[arg-type]


def _origin(observations: Sequence[ThemeObservation]) -> datetime:
    first = min(o.at for o in observations)
    return (first - timedelta(days=first.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )


def refresh_alerts(*, session: Session) -> list[ThemeAlert]:
    """Recompute the alerts for the latest week that has feedback (replacing that week's)."""
    observations = [o for _, o in _observations(session)]
    if not observations:
        return []
    origin = _origin(observations)
    current = period_start(max(o.at for o in observations), WEEK, origin)
    session.execute(delete(ThemeAlert).where(ThemeAlert.period_start == current))
    alerts = [
        ThemeAlert(
            theme_id=int(a.theme_id),
            kind=a.kind,
            period_start=current,
            observed=a.observed,
            expected=a.expected,
            p_value=a.p_value,
            adjusted_p_value=a.adjusted_p_value,
        )
        for a in detect_alerts(observations, current_period_start=current, period=WEEK)
    ]
    session.add_all(alerts)
    session.flush()
    return alerts


def theme_overview(
    *, session: Session, coverage: Sequence[str] = (), where: FeedbackFilter = FeedbackFilter()
) -> list[ThemeSummary]:
    """Active themes, biggest first. ``coverage``: question/topic/goal texts already asked
    about; frequent negative themes none of them covers are flagged as unspoken needs.
    ``where``: only the comments it lets through count (volume, share, trend, examples); a
    theme none of them is in is left out."""
    themes = active_themes(session)
    pairs = _observations(session, where)
    if not themes:
        return []
    by_theme: dict[int, list[Feedback]] = defaultdict(list)
    for f, _ in pairs:
        by_theme[f.theme_id or 0].append(f)
    origin = _origin([o for _, o in pairs]) if pairs else None
    points = theme_trends([o for _, o in pairs], period=WEEK, origin=origin) if origin else []
    weeks = sorted({p.period_start for p in points})
    alerts = session.scalars(select(ThemeAlert).order_by(ThemeAlert.period_start.desc()))
    alerts_of: dict[int, list[ThemeAlert]] = defaultdict(list)
    latest = weeks[-1] if weeks else None
    for alert in alerts:
        if alert.period_start == latest:
            alerts_of[alert.theme_id].append(alert)
    sentiments = {str(t.id): [f.sentiment_label for f in by_theme[t.id]] for t in themes}
    pure = [replace(_pure_theme(session, t), theme_id=str(t.id)) for t in themes]
    unspoken = {
        need.theme_id
        for need in find_unspoken_needs(pure, sentiments, list(coverage))  # type: ignore[arg-type]
    }
    summaries = []
    for row in themes:
        members = by_theme[row.id]
        volume = len(members)
        if where.narrows and not volume:
            continue
        negative = sum(f.sentiment_label == "negative" for f in members)
        per_week = {p.period_start: p for p in points if p.theme_id == str(row.id)}
        examples: dict[str, list[str]] = defaultdict(list)
        for f in sorted(members, key=lambda f: -(f.theme_similarity or 0)):
            # The same comment often comes in several times ("Thanks!"): show it once.
            shown = examples[f.language]
            if f.text and f.text not in shown and len(shown) < EXAMPLES_PER_LANGUAGE:
                shown.append(f.text)
        summaries.append(
            ThemeSummary(
                id=row.id,
                label=row.label,
                staff_renamed=row.staff_renamed,
                keywords=dict(row.keywords),
                volume=volume,
                negative_share=negative / volume if volume else 0.0,
                mean_sentiment=(
                    sum(f.sentiment_score for f in members) / volume if volume else 0.0
                ),
                trend=[
                    (
                        w,
                        per_week[w].volume if w in per_week else 0,
                        per_week[w].negative_share if w in per_week else 0.0,
                    )
                    for w in weeks
                ],
                examples=dict(sorted(examples.items())),
                alerts=alerts_of[row.id],
                unspoken=str(row.id) in unspoken,
            )
        )
    return sorted(summaries, key=lambda s: -s.volume)
