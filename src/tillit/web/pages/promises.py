"""The company's promises on three faces: the public page (every promise and how often it was
kept in the last 90 days, in the visitor's language), the customer's own record in the
preference centre (with a button that opens a case about a broken promise) and the staff
reality check (promises against measured, trend, drill-down to each broken instance)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.dialogues.cases import rule_words
from tillit.i18n import LANGUAGES, negotiate
from tillit.promises import report, slo
from tillit.promises.store import ensure_catalogue, get_promise
from tillit.promises.value import INDICATORS, value_report
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId, utcnow
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.preference_centre import FormDep, _checked, acting
from tillit.web.pages.staff_auth import allow
from tillit.web.staff_words import data_request_kind, readable, topic_names
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)

CHART_WIDTH, CHART_HEIGHT = 480, 120


@router.get("/promises", response_class=HTMLResponse)
def public_page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str | None = None
) -> HTMLResponse:
    language = negotiate(lang, accept_language=request.headers.get("accept-language"))
    if ensure_catalogue(session=session, settings=settings):
        session.commit()
    found = report.summaries(
        session=session, settings=settings, language=language, active_only=True
    )
    return render(
        request,
        "promises/public.html",
        language=language,
        promises=found,
        languages=LANGUAGES,
        days=report.PUBLIC_DAYS,
    )


@router.post("/p/{token}/promises/{breach_id}/case")
def open_case(
    token: str,
    breach_id: EntityId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """The customer asks about one of their broken promises: a case opens (once)."""
    link = _checked(session, settings, token, form)
    report.open_case_for_breach(
        session=session,
        settings=settings,
        customer_id=link.customer_id,
        breach_id=breach_id,
        actor=acting(request, session, link.customer_id),
    )
    session.commit()
    lang = str(form.get("lang", ""))
    query = f"saved=promise:{breach_id}" + (f"&lang={lang}" if lang in LANGUAGES else "")
    return RedirectResponse(f"/p/{token}?{query}#promises", status_code=303)


def chart(weeks: list[report.Week], target: float) -> dict[str, object]:
    """Points of an SVG line of the weekly kept share (0 at the bottom, 1 at the top), and the
    target's height; the page draws them without JavaScript."""
    shown = [w for w in weeks if w.total][-26:]
    if not shown:
        return {"points": "", "dots": [], "target_y": _y(target), "band": ""}
    step = CHART_WIDTH / max(1, len(shown) - 1)
    xs = [round(i * step, 1) if len(shown) > 1 else CHART_WIDTH / 2 for i in range(len(shown))]
    dots = [
        {"x": x, "y": _y(w.kept or 0.0), "week": w.week, "kept": w.kept, "total": w.total}
        for x, w in zip(xs, shown, strict=True)
    ]
    upper = [f"{x},{_y(w.high)}" for x, w in zip(xs, shown, strict=True)]
    lower = [f"{x},{_y(w.low)}" for x, w in reversed(list(zip(xs, shown, strict=True)))]
    return {
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "target_y": _y(target),
        "band": " ".join(upper + lower),
    }


def _y(share: float) -> float:
    return round(CHART_HEIGHT - share * CHART_HEIGHT, 1)


@router.get(
    "/staff/promises", response_class=HTMLResponse, dependencies=[allow(Permission.promises_read)]
)
def staff_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    if ensure_catalogue(session=session, settings=settings):
        session.commit()
    found = report.summaries(session=session, settings=settings)
    return render(
        request,
        "promises/staff.html",
        promises=found,
        charts={s.key: chart(s.weeks, s.target) for s in found},
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        window_days=slo.WINDOW_DAYS,
        values=value_report(session=session),
        indicators=INDICATORS,
        nav="promises",
    )


@router.get(
    "/staff/promises/{key}",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.promises_read)],
)
def staff_drilldown(
    key: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    if ensure_catalogue(session=session, settings=settings):
        session.commit()
    promise = get_promise(session=session, key=key)
    summary = report.summarise(session, promise, settings, "en", utcnow().date())
    return render(
        request,
        "promises/staff_breaches.html",
        promise=summary,
        breaches=report.breaches(session=session, key=key),
        where=report.where_broken(session=session, key=key),
        source_words=_source_words(topic_names(session)),
        chart=chart(summary.weeks, summary.target),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        window_days=slo.WINDOW_DAYS,
        evidence_words=EVIDENCE_WORDS,
        nav="promises",
    )


EVIDENCE_WORDS = {
    "case": "Case",
    "send": "Message sent",
    "request": "Data request",
    "answer": "Answer",
    "consent": "Consent decision",
}


def _source_words(topics: dict[str, str]) -> Callable[[report.Breach], str]:
    """What a broken instance was about, in words: a case's rule, a message's topic, a data
    request's kind, a question or a purpose (its key made readable)."""

    def words(breach: report.Breach) -> str:
        if not breach.source:
            return "—"
        if breach.evidence_kind == "case":
            return rule_words(breach.source)
        if breach.evidence_kind == "request":
            return data_request_kind(breach.source)
        return topics.get(breach.source) or readable(breach.source).capitalize()

    return words
