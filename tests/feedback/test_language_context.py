"""At import, a short comment's language comes from everything known about its writer: the
customer's locale and country, the channel's country and the customer's earlier comments."""

from __future__ import annotations

from tillit.customers.models import Customer
from tillit.feedback.service import FeedbackIn, ingest_feedback

SHORT = "Pakken kom"  # Danish, Bokmål or Dutch: three languages read these two words alike


def test_short_comment_language_from_the_writers_context(sessions, e5) -> None:
    with sessions() as session, session.begin():
        norwegian = Customer(locale="nb-NO", time_zone="Europe/Oslo", country="NO")
        # A customer whose profile says English but who writes Danish.
        writes_danish = Customer(locale="en-GB", time_zone="Europe/Copenhagen")
        session.add_all([norwegian, writes_danish])
        session.flush()
        ingest_feedback(
            session=session,
            items=[
                FeedbackIn(
                    text="Jeg har ventet tre uger på min pakke, og ingen svarer.",
                    customer_id=writes_danish.id,
                ),
                FeedbackIn(
                    text="Tak for hjælpen i butikken i går, I var meget venlige.",
                    customer_id=writes_danish.id,
                ),
            ],
            embedder=e5,
        )
        stored = ingest_feedback(
            session=session,
            items=[
                FeedbackIn(text=SHORT),
                FeedbackIn(text=SHORT, customer_id=norwegian.id),
                FeedbackIn(text=SHORT, country="SE", locale="nl-NL"),
                FeedbackIn(text=SHORT, customer_id=writes_danish.id),
            ],
            embedder=e5,
        )
        assert [row.language for row in stored] == ["unknown", "nb", "nl", "da"]
        # An unknown language still gets the one sentiment (from the likeliest language).
        assert stored[0].sentiment_label in {"negative", "neutral", "positive"}
