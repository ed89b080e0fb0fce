"""The customer's question page, reached by a signed personal link per ask: no login, no JS.

The ask token is the capability (like an RFC 8058 unsubscribe link): it names one ask of one
customer, answers once, and afterwards shows the customer their cases and any open question
(e.g. "did we solve it?"), which they can answer from the same page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tillit.consent.links import LinkGone
from tillit.dialogues import ask_links, asks, cases, catalogue
from tillit.dialogues.catalogue import SCALES
from tillit.dialogues.models import Ask, AskStatus
from tillit.dialogues.responses import Answer, submit
from tillit.errors import FieldError, InvalidInput, NotFound, TillitError
from tillit.i18n import LANGUAGES, negotiate
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.preference_centre import FormDep, gone_page
from tillit.web.problems import http_status
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)
# English msgids for the scale ends; the template translates them.
SCALE_ENDS = {
    "nps": ("Not at all likely", "Extremely likely"),
    "csat": ("Very dissatisfied", "Very satisfied"),
    "ces": ("Very difficult", "Very easy"),
    "rating": ("Poor", "Excellent"),
}
CASE_STATUS = {
    "open": "We have received it",
    "assigned": "Someone is working on it",
    "resolved": "Resolved",
}


def question_view(session: SessionDep, ask: Ask, language: str) -> dict[str, object]:
    question, version = asks.question_of(session=session, ask=ask)
    low, high = SCALES.get(question.type, (0, -1))
    return {
        "ask": ask,
        "question": question,
        "text": catalogue.text_in(version.texts, language),
        "follow_up": catalogue.text_in(version.follow_up, language) if version.follow_up else "",
        "options": catalogue.options_in(version, language),
        "scale": list(range(low, high + 1)),
        "ends": SCALE_ENDS.get(question.type),
        "multiple": question.type == "multiple"
        or question.relationship_kind in ("channels", "topics"),
        "free_text": question.type == "text" or question.relationship_kind == "never",
    }


def answer_from(form: FormData) -> Answer:
    raw = str(form.get("score", "")).strip()
    if raw and not raw.lstrip("-").isdigit():
        raise InvalidInput(FieldError("score", "choose a number"))
    return Answer(
        score=int(raw) if raw else None,
        choices=tuple(str(c) for c in form.getlist("choices")),
        text=str(form.get("text", "")) or None,
        follow_up=str(form.get("follow_up", "")) or None,
    )


def _language(request: Request, ask: Ask, lang: str | None) -> str:
    return negotiate(lang, ask.language, accept_language=request.headers.get("accept-language"))


@router.get("/d/{token}", response_class=HTMLResponse)
def ask_page(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: str | None = None,
    error: str | None = None,
) -> Response:
    try:
        ask = ask_links.resolve_token(session=session, token=token, secret_key=settings.secret_key)
    except LinkGone as gone:
        return gone_page(request, gone)
    language = _language(request, ask, lang)
    if asks.expire_overdue(session=session):
        session.commit()
    current = question_view(session, ask, language) if ask.status == AskStatus.pending else None
    others = [
        question_view(session, other, language)
        for other in asks.open_asks(session=session, customer_id=ask.customer_id)
        if other.id != ask.id
    ]
    return render(
        request,
        "dialogues/ask.html",
        language=language,
        token=token,
        current=current,
        others=others,
        answered=ask.status == AskStatus.answered,
        status=ask.status,
        cases=cases.customer_cases(session=session, customer_id=ask.customer_id),
        case_status=CASE_STATUS,
        replies=_replies(session, ask.customer_id),
        languages=LANGUAGES,
        error=error,
    )


def _replies(session: SessionDep, customer_id: int) -> dict[int, list[str]]:
    return {
        case.id: [
            n.body for n in cases.notes(session=session, case_id=case.id) if n.kind == "reply"
        ]
        for case in cases.customer_cases(session=session, customer_id=customer_id)
    }


def _target(session: SessionDep, ask: Ask, ask_id: int | None) -> Ask:
    if ask_id is None or ask_id == ask.id:
        return ask
    other = asks.ask_by_id(session=session, ask_id=ask_id)
    if other is None or other.customer_id != ask.customer_id:
        raise NotFound("no such question for you")
    return other


def _back(token: str, form: FormData, error: str | None = None) -> RedirectResponse:
    language = str(form.get("lang", ""))
    query = f"?lang={language}" if language in LANGUAGES else "?"
    if error:
        query += "&error=" + error
    return RedirectResponse(f"/d/{token}{query}", status_code=303)


@router.post("/d/{token}")
def answer(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
    ask_id: EntityId | None = None,
) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        ask = ask_links.resolve_token(session=session, token=token, secret_key=settings.secret_key)
    except LinkGone as gone:
        if wants_json:
            return JSONResponse({"detail": gone.detail}, status_code=410)
        return gone_page(request, gone)
    target = _target(session, ask, ask_id)
    try:
        if form.get("decline") == "1":
            asks.decline(session=session, ask=target)
        else:
            submit(session=session, settings=settings, ask=target, answer=answer_from(form))
    except TillitError as problem:
        session.rollback()
        if wants_json:
            return JSONResponse({"detail": problem.detail}, status_code=http_status(problem))
        return _back(token, form, "invalid" if isinstance(problem, InvalidInput) else "closed")
    session.commit()
    if wants_json:
        return JSONResponse({"status": target.status})
    return _back(token, form)
