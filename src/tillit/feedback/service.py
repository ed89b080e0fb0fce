"""Ingest feedback, (re)discover themes, and let staff rename, merge and split them.

Writes happen in the caller's transaction (the caller commits); every staff change is
audited. The pure work — language, sentiment, themes — is ``tillit.insight``; this module
only loads and stores its inputs and outputs.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.models import Customer
from tillit.customers.validation import check_text
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.feedback.models import Feedback, FeedbackTheme, ThemeModelState
from tillit.insight import (
    FeedbackComment,
    Theme,
    ThemeComment,
    ThemeSpace,
    analyse,
    merge_themes,
    split_theme,
)
from tillit.insight.embeddings import Embedder
from tillit.insight.languages import UNKNOWN
from tillit.insight.router import ThemeRouter
from tillit.storage.base import utcnow


@dataclass(frozen=True)
class FeedbackIn:
    text: str
    source: str = "api"
    channel: str | None = None
    customer_id: int | None = None
    locale: str | None = None
    # ISO 3166-1 country of the channel the comment came through (shop, web domain).
    country: str | None = None
    nps: int | None = None
    csat: int | None = None
    created_at: datetime | None = None


class InsightError(ValueError):
    """A theme operation that cannot be done (too few comments to split, same theme twice)."""


# ---- conversions between rows and the pure Theme / ThemeSpace ------------------------------


def _space_bytes(space: ThemeSpace) -> bytes:
    buffer = io.BytesIO()
    arrays = {f"lang_{k}": v for k, v in space.language_means.items()}
    arrays["overall"] = space.overall_mean
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _space_from(data: bytes) -> ThemeSpace:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        means = {name[5:]: stored[name] for name in stored.files if name.startswith("lang_")}
        return ThemeSpace(means, stored["overall"])


def current_model(session: Session) -> ThemeModelState | None:
    return session.scalars(
        select(ThemeModelState).order_by(ThemeModelState.id.desc()).limit(1)
    ).first()


def active_themes(session: Session) -> list[FeedbackTheme]:
    return list(
        session.scalars(
            select(FeedbackTheme).where(FeedbackTheme.active).order_by(FeedbackTheme.id)
        )
    )


def _pure_theme(session: Session, row: FeedbackTheme) -> Theme:
    members = session.scalars(select(Feedback.id).where(Feedback.theme_id == row.id))
    return Theme(
        theme_id=row.key,
        label=row.label,
        centroid=np.frombuffer(row.centroid, dtype=np.float32).copy(),
        member_ids=tuple(str(m) for m in members),
        keywords={k: tuple(v) for k, v in row.keywords.items()},
        representatives=(),
    )


def _store_theme(session: Session, theme: Theme, *, label: str | None = None) -> FeedbackTheme:
    row = FeedbackTheme(
        key=theme.theme_id,
        label=label or theme.label,
        # The plain-words name in each staff language (insight.theme_names).
        labels=dict(theme.names),
        keywords={lang: list(words) for lang, words in theme.keywords.items()},
        centroid=theme.centroid.astype(np.float32).tobytes(),
    )
    session.add(row)
    session.flush()
    return row


# ---- ingest ---------------------------------------------------------------------------------


def _refuse_bad_items(session: Session, items: Sequence[FeedbackIn]) -> None:
    """Before any analysis: a comment tied to nobody would fail at the foreign key, and a NUL
    character at PostgreSQL's text columns (both were 500s)."""
    errors = [
        error
        for index, item in enumerate(items)
        for name in ("text", "source", "channel", "locale", "country")
        if (error := check_text(getattr(item, name), f"items[{index}].{name}"))
    ]
    errors += [
        FieldError(f"items[{index}].country", "country must be two letters (ISO 3166-1)")
        for index, item in enumerate(items)
        if item.country is not None
        and not (len(item.country) == 2 and item.country.isascii() and item.country.isalpha())
    ]
    wanted = {item.customer_id for item in items if item.customer_id is not None}
    known = set(session.scalars(select(Customer.id).where(Customer.id.in_(wanted))))
    errors += [
        FieldError(f"items[{index}].customer_id", f"customer {item.customer_id} does not exist")
        for index, item in enumerate(items)
        if item.customer_id is not None and item.customer_id not in known
    ]
    if errors:
        raise InvalidInput(errors)


# How many of a customer's latest comments inform the language prior of the next one.
EARLIER_COMMENTS = 20


def _comments_with_context(session: Session, items: Sequence[FeedbackIn]) -> list[FeedbackComment]:
    """Each item with what is known about its writer, for the language identification: the
    item's locale or else the customer's, the channel's country or else the customer's,
    and the languages of the customer's latest stored comments."""
    wanted = {item.customer_id for item in items if item.customer_id is not None}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(wanted)))}
    earlier: dict[int, tuple[str, ...]] = {}
    for customer_id in wanted:
        languages = session.scalars(
            select(Feedback.language)
            .where(Feedback.customer_id == customer_id, Feedback.language != UNKNOWN)
            .order_by(Feedback.id.desc())
            .limit(EARLIER_COMMENTS)
        )
        earlier[customer_id] = tuple(languages)
    comments = []
    for index, item in enumerate(items):
        customer = customers.get(item.customer_id) if item.customer_id is not None else None
        comments.append(
            FeedbackComment(
                str(index),
                item.text,
                item.locale or (customer.locale if customer else None),
                item.nps,
                item.csat,
                item.created_at,
                country=item.country or (customer.country if customer else None),
                earlier_languages=earlier.get(item.customer_id, ())
                if item.customer_id is not None
                else (),
            )
        )
    return comments


def ingest_feedback(
    *, session: Session, items: Sequence[FeedbackIn], embedder: Embedder | None = None
) -> list[Feedback]:
    """Analyse and store comments, assigning them to the current themes if there are any."""
    _refuse_bad_items(session, items)
    comments = _comments_with_context(session, items)
    rows = active_themes(session)
    model = current_model(session)
    if rows and model is not None:
        themes = [_pure_theme(session, row) for row in rows]
        router = ThemeRouter.from_bytes(model.router) if model.router else None
        result = analyse(
            comments,
            themes=themes,
            theme_space=_space_from(model.space),
            router=router,
            embedder=embedder,
        )
        by_key = {row.key: row for row in rows}
        for theme in result.themes:
            by_key[theme.theme_id].centroid = theme.centroid.astype(np.float32).tobytes()
        theme_of = {key: row.id for key, row in by_key.items()}
    else:
        # No themes yet: language and sentiment only, the same sentiment as every other path
        # (the shipped head needs the comment's e5 vector); themes come with rediscover_themes.
        result = analyse(
            comments,
            themes=[],
            theme_space=ThemeSpace({}, np.zeros(384, np.float32)),
            embedder=embedder,
        )
        theme_of = {}
    stored = []
    for item, insight in zip(items, result.insights, strict=True):
        row = Feedback(
            customer_id=item.customer_id,
            source=item.source,
            channel=item.channel,
            text=item.text,
            language=insight.language.language,
            language_confidence=round(insight.language.confidence, 4),
            sentiment_label=insight.sentiment.label,
            sentiment_score=insight.sentiment.score,
            sentiment_explanation=[list(p) for p in insight.sentiment.explanation],
            nps=item.nps,
            csat=item.csat,
            theme_id=theme_of.get(insight.theme_id) if insight.theme_id else None,
            theme_similarity=insight.theme_similarity if insight.theme_id else None,
            created_at=item.created_at or utcnow(),
        )
        session.add(row)
        stored.append(row)
    session.flush()
    return stored


# ---- discovery and staff operations -----------------------------------------------------------


def rediscover_themes(
    *,
    session: Session,
    actor: Actor,
    theme_count: int | None = None,
    embedder: Embedder | None = None,
) -> list[FeedbackTheme]:
    """Cluster all stored feedback afresh; staff labels carry over to the theme that kept
    most of their comments. Retrains the router. Sentiment is left as stored at import (the
    shipped head, per comment), so rediscovery never changes it."""
    feedback = list(
        session.scalars(select(Feedback).where(Feedback.text.is_not(None)).order_by(Feedback.id))
    )
    if not feedback:
        return []
    comments = [
        FeedbackComment(str(f.id), f.text or "", f.language, f.nps, f.csat, f.created_at)
        for f in feedback
    ]
    result = analyse(comments, theme_count=theme_count, embedder=embedder)
    old = {row.id: row for row in active_themes(session)}
    old_theme_of = {f.id: f.theme_id for f in feedback}
    for row in old.values():
        row.active = False
    # Theme keys are unique: two rediscoveries in one second (a fast machine, two staff
    # members) must not make the same keys, so the second's time carries a random part too.
    stamp = f"{utcnow():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    by_id = {f.id: f for f in feedback}
    stored = []
    for theme in result.themes:
        theme = replace(theme, theme_id=f"{stamp}-{theme.theme_id}")
        kept = _staff_label(theme.member_ids, old, old_theme_of)
        row = _store_theme(session, theme, label=kept)
        row.staff_renamed = kept is not None
        for member in theme.member_ids:
            by_id[int(member)].theme_id = row.id
        stored.append(row)
    for insight in result.insights:
        # Sentiment stays as stored at import: the same head gave it, per comment.
        by_id[int(insight.comment_id)].theme_similarity = insight.theme_similarity
    assert result.theme_space is not None
    keys = [f"{stamp}-{i.theme_id}" if i.theme_id else None for i in result.insights]
    _save_model(session, result.theme_space, feedback, keys)
    record(
        session=session,
        actor=actor,
        action="insight.themes.rediscover",
        entity_type="insight_theme",
        after={"themes": len(stored), "comments": len(feedback)},
    )
    return stored


def _staff_label(
    members: Sequence[str], old: dict[int, FeedbackTheme], old_theme_of: dict[int, int | None]
) -> str | None:
    counts: dict[int, int] = {}
    for member in members:
        previous = old_theme_of.get(int(member))
        if previous in old and old[previous].staff_renamed:
            counts[previous] = counts.get(previous, 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda k: counts[k])
    return old[best].label if counts[best] * 2 > len(members) else None


def _save_model(
    session: Session, space: ThemeSpace, feedback: Sequence[Feedback], keys: Sequence[str | None]
) -> None:
    try:
        router = ThemeRouter.train(
            [f.text or "" for f in feedback], [f.language for f in feedback], keys
        )
        router_bytes: bytes | None = router.to_bytes()
    except ValueError:  # a single theme: nothing to route between
        router_bytes = None
    session.add(
        ThemeModelState(space=_space_bytes(space), router=router_bytes, trained_on=len(feedback))
    )
    session.flush()


def get_theme(session: Session, theme_id: int) -> FeedbackTheme:
    row = session.get(FeedbackTheme, theme_id)
    if row is None or not row.active:
        raise NotFound(f"theme {theme_id} does not exist")
    return row


def rename_theme(*, session: Session, theme_id: int, label: str, actor: Actor) -> FeedbackTheme:
    row = get_theme(session, theme_id)
    if not label.strip():
        raise InsightError("a theme label cannot be empty")
    before = row.label
    row.label, row.staff_renamed = label.strip()[:200], True
    record(
        session=session,
        actor=actor,
        action="insight.theme.rename",
        entity_type="insight_theme",
        entity_id=row.id,
        before={"label": before},
        after={"label": row.label},
    )
    return row


def merge_persisted_themes(
    *, session: Session, theme_id: int, other_id: int, actor: Actor, label: str | None = None
) -> FeedbackTheme:
    """Fold ``other_id`` into ``theme_id``; its comments move, it is deactivated."""
    if theme_id == other_id:
        raise InsightError("a theme cannot be merged with itself")
    first, second = get_theme(session, theme_id), get_theme(session, other_id)
    merged = merge_themes(_pure_theme(session, first), _pure_theme(session, second), label=label)
    first.centroid = merged.centroid.astype(np.float32).tobytes()
    first.keywords = {lang: list(words) for lang, words in merged.keywords.items()}
    if label:
        first.label, first.staff_renamed = label.strip()[:200], True
    session.execute(
        update(Feedback).where(Feedback.theme_id == second.id).values(theme_id=first.id)
    )
    second.active = False
    record(
        session=session,
        actor=actor,
        action="insight.theme.merge",
        entity_type="insight_theme",
        entity_id=first.id,
        before={"merged": [first.id, second.id]},
        after={"label": first.label},
    )
    return first


def split_persisted_theme(
    *,
    session: Session,
    theme_id: int,
    actor: Actor,
    parts: int = 2,
    embedder: Embedder | None = None,
) -> list[FeedbackTheme]:
    """Re-cluster one theme's comments into ``parts`` new themes (re-embedding them)."""
    row = get_theme(session, theme_id)
    model = current_model(session)
    members = list(
        session.scalars(
            select(Feedback).where(Feedback.theme_id == row.id, Feedback.text.is_not(None))
        )
    )
    if model is None or len(members) < max(parts, 2):
        raise InsightError(f"theme {theme_id} has too few comments to split in {parts}")
    from tillit.insight.embeddings import default_embedder

    space = _space_from(model.space)
    codes = [m.language for m in members]
    vectors = space.transform(
        (embedder or default_embedder()).embed([m.text or "" for m in members]), codes
    )
    comments = [ThemeComment(str(m.id), m.text or "", m.language) for m in members]
    pieces = split_theme(_pure_theme(session, row), comments, vectors, parts=parts)
    row.active = False
    stored = []
    by_id = {m.id: m for m in members}
    for piece in pieces:
        new = _store_theme(session, piece)
        for member in piece.member_ids:
            by_id[int(member)].theme_id = new.id
        stored.append(new)
    # The router still knows the old key; comments it routes there now fall back to e5.
    record(
        session=session,
        actor=actor,
        action="insight.theme.split",
        entity_type="insight_theme",
        entity_id=row.id,
        after={"into": [s.id for s in stored]},
    )
    return stored
