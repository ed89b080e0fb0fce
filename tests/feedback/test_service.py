from sqlalchemy import func, select

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.feedback.demo import load_demo_feedback
from tillit.feedback.models import Feedback, FeedbackTheme
from tillit.feedback.overview import theme_overview
from tillit.feedback.service import (
    FeedbackIn,
    ingest_feedback,
    merge_persisted_themes,
    rename_theme,
    split_persisted_theme,
)
from tillit.insight.embeddings import E5Embedder
from tillit.privacy.areas import ERASERS

STAFF = Actor(type="staff", id="1", label="ada@example.com")


def test_demo_load_ingest_and_staff_operations(sessions, e5: E5Embedder) -> None:
    with sessions() as session, session.begin():
        assert load_demo_feedback(session=session, actor=STAFF, embedder=e5) >= 400
    with sessions() as session, session.begin():
        overview = theme_overview(session=session)
        assert len(overview) == 8
        assert sum(s.volume for s in overview) >= 400
        known = session.scalars(
            select(Feedback.theme_id).where(Feedback.text == "Min pakke kom en uge for sent.")
        ).first()
        delivery = next(s for s in overview if s.id == known)
        assert {"da", "nl"} <= set(delivery.examples)
        # A new Danish complaint lands in the delivery theme.
        [stored] = ingest_feedback(
            session=session,
            items=[FeedbackIn(text="Min pakke kom to uger for sent.", locale="da-DK")],
            embedder=e5,
        )
        assert stored.language == "da" and stored.sentiment_label == "negative"
        assert stored.theme_id == delivery.id

        rename_theme(session=session, theme_id=delivery.id, label="Late delivery", actor=STAFF)
        other = next(s for s in overview if s.id != delivery.id)
        merged = merge_persisted_themes(
            session=session, theme_id=delivery.id, other_id=other.id, actor=STAFF
        )
        assert merged.label == "Late delivery"
        parts = split_persisted_theme(
            session=session, theme_id=delivery.id, actor=STAFF, embedder=e5
        )
        assert len(parts) == 2
        assert (
            session.scalar(
                select(func.count()).select_from(FeedbackTheme).where(FeedbackTheme.active)
            )
            == 8
        )
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"insight.theme.rename", "insight.theme.merge", "insight.theme.split"} <= actions


def test_erasure_removes_feedback_text(sessions) -> None:
    from tillit.customers.models import Customer

    assert "insight_feedback" in ERASERS
    with sessions() as session, session.begin():
        customer = Customer(locale="da-DK", time_zone="Europe/Copenhagen")
        session.add(customer)
        session.flush()
        ingest_feedback(
            session=session,
            items=[FeedbackIn(text="Jeg hedder Ada og appen crasher", customer_id=customer.id)],
        )
        ERASERS["insight_feedback"](session, customer.id, [])
        row = session.scalars(select(Feedback)).one()
        assert row.text is None and row.customer_id is None and row.sentiment_explanation == []
