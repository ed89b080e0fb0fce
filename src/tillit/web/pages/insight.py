"""The themes explorer: what customers write about, in every language, and what changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from tillit.dialogues.models import QuestionVersion
from tillit.feedback import service
from tillit.feedback.overview import theme_overview
from tillit.feedback.service import InsightError
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
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
    texts = session.scalars(select(QuestionVersion.texts))
    return [t.get("en", "") for t in texts if isinstance(t, dict) and t.get("en")]


@router.get("", response_class=HTMLResponse, dependencies=[allow(Permission.insight_read)])
def explorer(request: Request, session: SessionDep, error: str | None = None) -> HTMLResponse:
    themes = theme_overview(session=session, coverage=_coverage(session))
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
