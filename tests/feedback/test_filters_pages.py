"""The themes explorer's filters (language, channel, sentiment, theme, period) and the
click-through from a theme to its comments and from a comment to its customer."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy.orm import Session

from tillit.analytics.models import Segment, SegmentMember
from tillit.customers.models import Customer
from tillit.feedback.browse import FeedbackFilter, count_comments, list_comments
from tillit.feedback.models import Feedback, FeedbackTheme
from tillit.feedback.overview import theme_overview
from tillit.storage.session import SessionFactory

CENTROID = np.ones(384, dtype=np.float32).tobytes()


def _theme(session: Session, key: str, label: str) -> FeedbackTheme:
    row = FeedbackTheme(key=key, label=label, labels={"en": label}, keywords={}, centroid=CENTROID)
    session.add(row)
    session.flush()
    return row


def _comment(session: Session, theme: FeedbackTheme | None, text: str, **values: object) -> None:
    defaults: dict[str, object] = {
        "source": "api",
        "channel": "email",
        "language": "en",
        "language_confidence": 0.99,
        "sentiment_label": "negative",
        "sentiment_score": -0.5,
        "created_at": datetime(2026, 3, 2, 12, tzinfo=UTC),
    }
    session.add(Feedback(text=text, theme_id=theme.id if theme else None, **{**defaults, **values}))


def load(sessions: SessionFactory) -> tuple[int, int, int]:
    with sessions() as session, session.begin():
        karen = Customer(name="Karen Holm", locale="da-DK", time_zone="Europe/Copenhagen")
        session.add(karen)
        session.flush()
        delivery = _theme(session, "t-delivery", "Delivery and delays")
        prices = _theme(session, "t-prices", "Prices")
        _comment(session, delivery, "Min pakke kom en uge for sent.", language="da",
                 customer_id=karen.id)  # fmt: skip
        _comment(session, delivery, "Leveransen var försenad igen.", language="sv", channel="web")
        _comment(session, delivery, "My parcel arrived a week late.",
                 created_at=datetime(2026, 1, 5, 9, tzinfo=UTC))  # fmt: skip
        _comment(session, delivery, "Quick delivery, thank you!", sentiment_label="positive",
                 sentiment_score=0.8, channel="web")  # fmt: skip
        _comment(session, prices, "Alt for dyrt i forhold til andre butikker.", language="da")
        _comment(session, prices, "Good prices this spring.", sentiment_label="positive",
                 sentiment_score=0.6, created_at=datetime(2026, 3, 31, 23, tzinfo=UTC))  # fmt: skip
        loyal = Segment(key="loyal", name="Loyal customers", purpose_key="marketing")
        session.add(loyal)
        session.flush()
        session.add(SegmentMember(segment_id=loyal.id, customer_id=karen.id))
        return karen.id, delivery.id, prices.id


def test_filters_narrow_every_figure(sessions: SessionFactory) -> None:
    _karen, delivery, prices = load(sessions)
    with sessions() as session:
        everything = {t.label: t.volume for t in theme_overview(session=session)}
        assert everything == {"Delivery and delays": 4, "Prices": 2}
        danish = theme_overview(session=session, where=FeedbackFilter(language="da"))
        assert {t.label: t.volume for t in danish} == {"Delivery and delays": 1, "Prices": 1}
        web = theme_overview(session=session, where=FeedbackFilter(channel="web"))
        assert {t.label: (t.volume, t.negative_share) for t in web} == {
            "Delivery and delays": (2, 0.5)
        }
        march = FeedbackFilter(since=date(2026, 3, 1), until=date(2026, 3, 31))
        assert {t.label: t.volume for t in theme_overview(session=session, where=march)} == {
            "Delivery and delays": 3,
            "Prices": 2,  # the last day counts whole
        }
        positive = FeedbackFilter(sentiment="positive", theme_id=prices)
        [one] = list_comments(session=session, where=positive)
        assert one.text == "Good prices this spring." and one.theme_label == "Prices"
        assert count_comments(session=session, where=FeedbackFilter(theme_id=delivery)) == 4
        assert count_comments(session=session, where=FeedbackFilter(until=date(2026, 1, 4))) == 0


def test_a_theme_opens_its_comments_and_a_comment_its_customer(client, sessions, staff_as):
    karen, delivery, _prices = load(sessions)
    staff_as("analyst")
    page = client.get("/staff/insight?language=da")
    assert page.status_code == 200
    main = page.text[page.text.index("<main") : page.text.index("</main>")]
    assert "Delivery and delays" in main and "·" not in main
    link = f'/staff/insight/comments?language=da&amp;theme={delivery}"'
    assert link in page.text  # the count and "Read all" keep the filters
    assert "Read all 1 comment about Delivery and delays" in page.text
    assert '<option value="da" selected>Danish</option>' in page.text
    assert '<option value="email">E-mail</option>' in page.text

    listed = client.get(f"/staff/insight/comments?theme={delivery}")
    assert listed.status_code == 200
    assert "<h1>Comments about Delivery and delays</h1>" in listed.text
    assert "4 comments." in listed.text
    assert "Alt for dyrt" not in listed.text  # the other theme's
    assert f'<a href="/staff/customers/{karen}">Karen Holm</a>' in listed.text
    assert listed.text.count("Not known") == 3  # comments with no customer
    assert ">Swedish<" in listed.text and ">Web<" in listed.text and ">Negative<" in listed.text
    customer = client.get(f"/staff/customers/{karen}")
    assert customer.status_code == 200 and "Karen Holm" in customer.text

    filtered = client.get(
        f"/staff/insight/comments?theme={delivery}&sentiment=negative&channel=email"
        "&since=2026-03-01&until=2026-03-31&language="
    )
    rows = re.findall(r"<tr>\s*<td>", filtered.text)
    assert "1 comment." in filtered.text and len(rows) == 1
    assert "Min pakke kom en uge for sent." in filtered.text
    with sessions() as session:
        loyal = session.query(Segment).one().id
    members = client.get(f"/staff/insight/comments?segment={loyal}")
    assert "1 comment." in members.text and "Karen Holm" in members.text
    assert f'<option value="{loyal}" selected>Loyal customers</option>' in members.text
    themes = client.get(f"/staff/insight?segment={loyal}")
    assert "Read all 1 comment about Delivery and delays" in themes.text
    assert "Prices" not in themes.text.split("<table", 1)[1]  # no comment of hers there
    none = client.get("/staff/insight?language=nl")
    assert "No comments match these filters." in none.text
    assert client.get("/staff/insight/comments?since=2026-02-30").status_code == 422
    assert client.get("/staff/insight/comments?since=yesterday").status_code == 422


def test_the_comments_page_needs_insight_read(client, sessions, staff_as):
    load(sessions)
    staff_as("agent")  # reads customers, not feedback insight
    assert client.get("/staff/insight/comments").status_code == 403
