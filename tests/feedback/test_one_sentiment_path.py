"""Every path that analyses a comment stores the same sentiment: the API into a fresh
workspace (no themes yet), the API into a workspace with themes and a router, rediscovery,
``analyse()`` itself and ``tillit insight analyse FILE``."""

from __future__ import annotations

import csv

from sqlalchemy import select
from typer.testing import CliRunner

from tillit.audit.service import Actor
from tillit.cli.main import app
from tillit.feedback.demo import load_demo_feedback
from tillit.feedback.models import Feedback
from tillit.feedback.service import rediscover_themes
from tillit.insight import FeedbackComment, analyse

COMMENTS = [
    ("Pakken kom en uge for sent, og ingen svarede på min mail.", "da-DK", 2),
    ("Tack för snabb leverans och trevligt bemötande!", "sv-SE", 10),
    ("Pakken kom i går.", "nb-NO", 7),
    ("Het pakket kwam veel te laat aan.", "nl-NL", 3),
    ("The staff were friendly and the refund was quick.", "en-GB", 9),
    ("Appen krasjer hver gang jeg betaler.", "nb-NO", 1),
    ("Leveransen kom på tisdag.", "sv-SE", None),
]


def _post(client, token_for) -> list[dict]:
    writer = {"Authorization": f"Bearer {token_for('insight:write')}"}
    body = {
        "items": [
            {"text": text, "locale": locale, **({"nps": nps} if nps is not None else {})}
            for text, locale, nps in COMMENTS
        ]
    }
    created = client.post("/api/v1/insight/feedback", json=body, headers=writer)
    assert created.status_code == 201, created.text
    return created.json()


def _stored(sessions) -> dict[str, tuple[str, float]]:
    texts = {text for text, _, _ in COMMENTS}
    with sessions() as session:
        rows = session.scalars(select(Feedback).where(Feedback.text.in_(texts)))
        return {r.text: (r.sentiment_label, round(r.sentiment_score, 4)) for r in rows}


def test_every_path_stores_the_same_sentiment(client, sessions, token_for, e5, tmp_path) -> None:
    # 1. analyse() as a library call, each comment alone.
    direct = {}
    for text, locale, nps in COMMENTS:
        [insight] = analyse([FeedbackComment("x", text, locale, nps=nps)], embedder=e5).insights
        direct[text] = (insight.sentiment.label, insight.sentiment.score)
    assert {label for label, _ in direct.values()} == {"negative", "neutral", "positive"}

    # 2. The API into a fresh workspace: no themes, no router yet.
    _post(client, token_for)
    assert _stored(sessions) == direct

    # 3. Rediscovery re-analyses everything; the stored sentiment stays.
    with sessions() as session, session.begin():
        rediscover_themes(session=session, actor=Actor.system("tests"), embedder=e5)
    assert _stored(sessions) == direct

    # 4. The API into a workspace with themes and a router (the demo feedback).
    with sessions() as session, session.begin():
        session.query(Feedback).delete()
        load_demo_feedback(session=session, actor=Actor.system("tests"), embedder=e5)
    created = _post(client, token_for)
    assert any(item["theme_id"] is not None for item in created)
    assert _stored(sessions) == direct

    # 5. The CLI on a file, all comments in one batch (the CSV rounds scores to 2 places).
    source = tmp_path / "feedback.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "locale"])
        writer.writerows([text, locale] for text, locale, _ in COMMENTS)
    result = CliRunner().invoke(app, ["insight", "analyse", str(source)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with (tmp_path / "feedback.insight.csv").open(encoding="utf-8") as handle:
        rows = {
            row["text"]: (row["sentiment"], row["sentiment_score"])
            for row in csv.DictReader(handle)
        }
    assert rows == {text: (label, f"{score:.2f}") for text, (label, score) in direct.items()}


def test_two_rediscoveries_in_one_second_keep_their_themes_apart(
    client, sessions, token_for, e5
) -> None:
    """Theme keys began with the second they were made: a second rediscovery within it (a fast
    machine, two staff members) broke the keys' uniqueness."""
    _post(client, token_for)
    keys = []
    for _ in range(2):
        with sessions() as session, session.begin():
            themes = rediscover_themes(session=session, actor=Actor.system("tests"), embedder=e5)
            keys.append({theme.key for theme in themes})
    assert keys[0] and keys[1] and not keys[0] & keys[1]
