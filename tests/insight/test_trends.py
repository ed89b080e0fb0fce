from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tillit.insight import Theme, ThemeObservation, detect_alerts, find_unspoken_needs, theme_trends
from tillit.insight.trends import benjamini_hochberg, binomial_upper_tail, poisson_upper_tail

ORIGIN = datetime(2025, 1, 6, tzinfo=UTC)


def _week(week: int, theme: str, sentiment: str, count: int) -> list[ThemeObservation]:
    return [
        ThemeObservation(ORIGIN + timedelta(weeks=week, hours=i), theme, sentiment)
        for i in range(count)
    ]


def test_exact_tails_match_known_values() -> None:
    assert poisson_upper_tail(10, 3.0) == pytest.approx(0.0011025, rel=1e-4)
    assert binomial_upper_tail(8, 10, 0.3) == pytest.approx(0.0015904, rel=1e-4)
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx(
        [0.04, 0.05333, 0.05333, 0.5], rel=1e-3
    )


def test_trends_bucket_by_period() -> None:
    points = theme_trends(
        _week(0, "price", "negative", 3) + _week(1, "price", "positive", 1), origin=ORIGIN
    )
    assert [(p.volume, p.negative_share, p.mean_sentiment) for p in points] == [
        (3, 1.0, -1.0),
        (1, 0.0, 1.0),
    ]


def test_growth_alert_only_for_the_theme_that_grew() -> None:
    history = [
        obs
        for week in range(6)
        for obs in _week(week, "late", "negative", 4) + _week(week, "price", "neutral", 4)
    ]
    now = _week(6, "late", "negative", 20) + _week(6, "price", "neutral", 5)
    alerts = detect_alerts(history + now, current_period_start=ORIGIN + timedelta(weeks=6))
    assert [(a.theme_id, a.kind) for a in alerts] == [("late", "growth")]


def test_turning_negative_alert() -> None:
    history = [
        obs
        for week in range(6)
        for obs in _week(week, "staff", "positive", 9) + _week(week, "staff", "negative", 1)
    ]
    now = _week(6, "staff", "negative", 8) + _week(6, "staff", "positive", 2)
    alerts = detect_alerts(history + now, current_period_start=ORIGIN + timedelta(weeks=6))
    assert ("staff", "turning_negative") in [(a.theme_id, a.kind) for a in alerts]


def _theme(theme_id: str, keywords: tuple[str, ...]) -> Theme:
    return Theme(
        theme_id, " · ".join(keywords), np.array([1.0, 0.0], np.float32), (), {"en": keywords}, ()
    )


def test_unspoken_needs_are_negative_frequent_and_uncovered() -> None:
    themes = [
        _theme("hours", ("opening", "hours", "sunday")),
        _theme("price", ("price", "expensive")),
        _theme("praise", ("friendly", "staff")),
    ]
    sentiments = {
        "hours": ["negative"] * 12,
        "price": ["negative"] * 12,
        "praise": ["positive"] * 30,
    }
    needs = find_unspoken_needs(themes, sentiments, ["How do you feel about our price?"])
    assert [need.theme_id for need in needs] == ["hours"]


def test_demo_late_delivery_surge_is_the_only_growth_alert() -> None:
    from tillit.demo.feedback_comments import demo_feedback

    demo = demo_feedback()
    observations = [
        ThemeObservation(c.created_at, c.theme, "negative" if c.nps <= 6 else "neutral")
        for c in demo
    ]
    last_week = max(period_start_of(c.created_at) for c in demo)
    alerts = detect_alerts(observations, current_period_start=last_week)
    assert {(a.theme_id, a.kind) for a in alerts if a.kind == "growth"} == {
        ("late_delivery", "growth")
    }


def period_start_of(at: datetime) -> datetime:
    return ORIGIN + timedelta(weeks=(at - ORIGIN) // timedelta(weeks=1))
