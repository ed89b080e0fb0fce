"""Load Tillit's fictional five-language demo feedback and find its themes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.demo.feedback_comments import demo_feedback
from tillit.feedback.models import Feedback
from tillit.feedback.overview import refresh_alerts
from tillit.feedback.service import FeedbackIn, ingest_feedback, rediscover_themes
from tillit.insight.embeddings import Embedder

DEMO_SOURCE = "demo"


def stored_demo_feedback(*, session: Session) -> int:
    """How many demo comments are stored already (loading them twice would double them)."""
    return session.scalar(select(func.count()).where(Feedback.source == DEMO_SOURCE)) or 0


def load_demo_feedback(
    *,
    session: Session,
    actor: Actor,
    customer_ids: Sequence[int] = (),
    embedder: Embedder | None = None,
) -> int:
    """Store the ~480 demo comments (spread over ``customer_ids`` if given), discover eight
    themes and compute alerts. Returns the number of comments stored."""
    items = [
        FeedbackIn(
            text=c.text,
            source=DEMO_SOURCE,
            channel="web",
            locale=c.locale,
            nps=c.nps,
            created_at=c.created_at,
            customer_id=customer_ids[i % len(customer_ids)] if customer_ids else None,
        )
        for i, c in enumerate(demo_feedback())
    ]
    ingest_feedback(session=session, items=items, embedder=embedder)
    rediscover_themes(session=session, actor=actor, theme_count=8, embedder=embedder)
    refresh_alerts(session=session)
    return len(items)
