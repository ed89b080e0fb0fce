"""The themes explorer: what customers write about, in every language, and what changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from tillit.dialogues import catalogue
from tillit.errors import FieldError, InvalidInput
from tillit.feedback import browse, service
from tillit.feedback.browse import SENTIMENTS, FeedbackFilter
from tillit.feedback.models import FeedbackTheme
from tillit.feedback.overview import theme_overview
from tillit.feedback.service import InsightError
from tillit.insight.languages import UNKNOWN
from tillit.staff.permissions import Permission, allowed
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.staff_words import channel_name, language_name
from tillit.web.templating import render

router = APIRouter(prefix="/staff/insight", include_in_schema=False)


def svg_bars(values: list[int], *, label: str, width: int = 220, height: int = 40) -> Markup:
    """A weekly volume sparkline as bars; numbers only, so nothing needs escaping but the
    label, which is escaped."""
    top = max(values, default=0) or 1
    step = width / max(len(values), 1)
    bars = "".join(
        f'<rect x="{i * step:.1f}" y="{height - value / top * height:.1f}" '
        f'width="{max(step - 1, 1):.1f}" height="{value / top * height:.1f}"/>'
        for i, value in enumerate(values)
    )
    return Markup(  # noqa: S704 - numbers above, label escaped here
        f'<svg class="spark" role="img" aria-label="{Markup.escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">{bars}</svg>'
    )


def _coverage(session: SessionDep) -> list[str]:
    """What the company already asks about: the English text of every dialogue question."""
    return catalogue.texts_in_english(session=session)


# The filters both pages take, as query parameters; an empty value (a form's "All") is none.
Text = Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z0-9_-]*$")]
Day = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
Page = Annotated[int, Query(ge=1, le=100_000)]
COMMENTS_PAGE = 50
SENTIMENT_NAMES = {"positive": "Positive", "neutral": "Neutral", "negative": "Negative"}


def _filter(
    language: str | None,
    channel: str | None,
    sentiment: str | None,
    theme: str | None,
    since: str | None,
    until: str | None,
    segment: str | None = None,
) -> FeedbackFilter:
    try:
        first, last = (date.fromisoformat(d) if d else None for d in (since, until))
    except ValueError as error:
        raise InvalidInput([FieldError("since/until", f"not a day: {error}")]) from error
    return FeedbackFilter(
        language=language or None,
        channel=channel or None,
        sentiment=sentiment if sentiment in SENTIMENTS else None,
        theme_id=int(theme) if theme and theme.isdigit() else None,
        since=first,
        until=last,
        segment_id=int(segment) if segment and segment.isdigit() else None,
    )


def _query(where: FeedbackFilter, **more: object) -> str:
    """The filters as a query string, for links that keep them."""
    values = {
        "language": where.language,
        "channel": where.channel,
        "sentiment": where.sentiment,
        "theme": where.theme_id,
        "since": where.since.isoformat() if where.since else None,
        "until": where.until.isoformat() if where.until else None,
        "segment": where.segment_id,
        **more,
    }
    return urlencode({k: v for k, v in values.items() if v is not None})


def _language_word(code: str | None) -> str:
    return "Not recognised" if code == UNKNOWN else language_name(code)


def _segment_param(request: Request, segment: str | None) -> str | None:
    """Segments are named only to staff who may read them; for others the filter is ignored."""
    staff = getattr(request.state, "staff", None)
    return segment if staff is not None and allowed(staff.role, Permission.segments_read) else None


def _filter_words(request: Request, session: SessionDep, where: FeedbackFilter) -> dict[str, Any]:
    """What the filter form offers, in words: stored languages and channels by name, the
    active themes by their names."""
    found = browse.choices(session=session)
    return {
        "where": where,
        "language_choices": [(code, _language_word(code)) for code in found.languages],
        "language_word": _language_word,
        "channel_choices": [(code, channel_name(code)) for code in found.channels],
        "sentiment_choices": list(SENTIMENT_NAMES.items()),
        "theme_choices": [(t.id, t.label) for t in service.active_themes(session)],
        "segment_choices": browse.segments(session=session)
        if _segment_param(request, "all")
        else [],
        "first_day": found.first,
        "last_day": found.last,
    }


@router.get("", response_class=HTMLResponse, dependencies=[allow(Permission.insight_read)])
def explorer(
    request: Request,
    session: SessionDep,
    error: str | None = None,
    language: Text = None,
    channel: Text = None,
    sentiment: Text = None,
    theme: Text = None,
    since: Day = None,
    until: Day = None,
    segment: Text = None,
) -> HTMLResponse:
    where = _filter(
        language, channel, sentiment, theme, since, until, _segment_param(request, segment)
    )
    themes = theme_overview(session=session, coverage=_coverage(session), where=where)
    sparks = {
        t.id: svg_bars(
            [volume for _, volume, _ in t.trend], label=f"Weekly comments about {t.label}"
        )
        for t in themes
    }
    return render(
        request,
        "insight/explorer.html",
        nav="insight",
        themes=themes,
        sparks=sparks,
        error=error,
        comments_link={t.id: _query(where, theme=t.id) for t in themes},
        **_filter_words(request, session, where),
    )


@router.get("/comments", response_class=HTMLResponse, dependencies=[allow(Permission.insight_read)])
def comments(
    request: Request,
    session: SessionDep,
    language: Text = None,
    channel: Text = None,
    sentiment: Text = None,
    theme: Text = None,
    since: Day = None,
    until: Day = None,
    segment: Text = None,
    page: Page = 1,
) -> HTMLResponse:
    """The comments behind the themes, newest first, filtered; each links to its customer
    for staff who may see customers."""
    where = _filter(
        language, channel, sentiment, theme, since, until, _segment_param(request, segment)
    )
    total = browse.count_comments(session=session, where=where)
    shown = browse.list_comments(
        session=session, where=where, limit=COMMENTS_PAGE, offset=(page - 1) * COMMENTS_PAGE
    )
    theme_name = None
    if where.theme_id is not None:
        row = session.get(FeedbackTheme, where.theme_id)
        theme_name = row.label if row is not None else None
    pages = max(1, -(-total // COMMENTS_PAGE))
    return render(
        request,
        "insight/comments.html",
        nav="insight",
        comments=shown,
        total=total,
        page=page,
        pages=pages,
        theme_name=theme_name,
        sentiment_names=SENTIMENT_NAMES,
        channel_name=channel_name,
        previous_link=_query(where, page=page - 1) if page > 1 else None,
        next_link=_query(where, page=page + 1) if page < pages else None,
        themes_link=_query(replace(where, theme_id=None)),
        **_filter_words(request, session, where),
    )


@router.post("/themes/{theme_id}/rename", dependencies=[allow(Permission.themes_manage)])
def rename(
    theme_id: EntityId, session: SessionDep, actor: FormActorDep, label: Annotated[str, Form()]
) -> Response:
    service.rename_theme(session=session, theme_id=theme_id, label=label, actor=actor)
    session.commit()
    return RedirectResponse(f"/staff/insight#theme-{theme_id}", status_code=303)


@router.post("/themes/{theme_id}/merge", dependencies=[allow(Permission.themes_manage)])
def merge(
    theme_id: EntityId,
    session: SessionDep,
    actor: FormActorDep,
    other_id: Annotated[EntityId, Form()],
) -> Response:
    try:
        service.merge_persisted_themes(
            session=session, theme_id=theme_id, other_id=other_id, actor=actor
        )
    except InsightError as error:
        session.rollback()
        return RedirectResponse(f"/staff/insight?error={error}", status_code=303)
    session.commit()
    return RedirectResponse(f"/staff/insight#theme-{theme_id}", status_code=303)


@router.post("/themes/{theme_id}/split", dependencies=[allow(Permission.themes_manage)])
def split(theme_id: EntityId, session: SessionDep, actor: FormActorDep) -> Response:
    try:
        service.split_persisted_theme(session=session, theme_id=theme_id, actor=actor)
    except InsightError as error:
        session.rollback()
        return RedirectResponse(f"/staff/insight?error={error}", status_code=303)
    session.commit()
    return RedirectResponse("/staff/insight", status_code=303)
