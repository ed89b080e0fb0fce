"""Staff pages for dialogues: question editor with five-language preview, response explorer,
metrics dashboard (inline SVG, CSV export) and the agent inbox for cases."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup

from tillit.dialogues import cases, catalogue, metrics
from tillit.dialogues.catalogue import Wording
from tillit.errors import FieldError, InvalidInput
from tillit.i18n import LANGUAGES
from tillit.staff.permissions import Permission
from tillit.storage.base import EntityId, utcnow
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.preference_centre import FormDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.staff_words import question_words
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get(
    "/dialogues", response_class=HTMLResponse, dependencies=[allow(Permission.dialogues_read)]
)
def questions(request: Request, session: SessionDep) -> HTMLResponse:
    return _questions_page(request, session)


def _questions_page(
    request: Request,
    session: SessionDep,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    found = catalogue.list_questions(session=session)
    versions = {q.id: catalogue.current_version(session=session, question=q) for q in found}
    return render(
        request,
        "dialogues/staff_questions.html",
        status_code=422 if error else 200,
        nav="dialogues",
        questions=found,
        versions=versions,
        words=question_words(session),
        languages=LANGUAGES,
        options_in=catalogue.options_in,
        error=error,
        form=form or {},
    )


@router.post("/dialogues/questions", dependencies=[allow(Permission.questions_manage)])
def create(request: Request, session: SessionDep, actor: FormActorDep, form: FormDep) -> Response:
    """A new question from the staff form; every text in all five languages."""
    fields = {key: str(value) for key, value in form.items()}
    try:
        spec = question_spec(fields)
        catalogue.create_question(session=session, spec=spec, actor=actor)
    except InvalidInput as error:
        session.rollback()
        return _questions_page(request, session, error=error.detail, form=fields)
    session.commit()
    return RedirectResponse(f"/staff/dialogues#q-{spec['key']}", status_code=303)


def question_spec(fields: dict[str, str]) -> dict[str, Any]:
    """The catalogue's question spec from the form's fields."""
    follow_up = {lang: fields.get(f"follow_{lang}", "").strip() for lang in LANGUAGES}
    options = []
    for number, line in enumerate(fields.get("options", "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 1 + len(LANGUAGES):
            raise InvalidInput(
                FieldError(
                    "options",
                    f"line {number}: give a value and a label in each of "
                    f"{len(LANGUAGES)} languages, separated by |",
                )
            )
        options.append({"value": parts[0], "labels": dict(zip(LANGUAGES, parts[1:], strict=True))})
    try:
        numbers = {
            name: int(fields.get(name) or default)
            for name, default in (("priority", 1), ("recontact_days", 90), ("delay_hours", 0))
        }
    except ValueError as error:
        raise InvalidInput(FieldError("priority", "numbers only")) from error
    if not re.fullmatch(r"[a-z0-9_]{3,60}", fields.get("key", "").strip()):
        raise InvalidInput(FieldError("key", "3-60 lower-case letters, digits or underscores"))
    if fields.get("type") in ("single", "multiple") and not options:
        raise InvalidInput(FieldError("options", "a choice question needs choices"))
    return {
        "key": fields.get("key", "").strip(),
        "type": fields.get("type", ""),
        "texts": {lang: fields.get(f"text_{lang}", "").strip() for lang in LANGUAGES},
        "follow_up": follow_up if any(follow_up.values()) else None,
        "options": options,
        "trigger_event": fields.get("trigger_event", "").strip() or None,
        **numbers,
    }


@router.post("/dialogues/questions/{key}", dependencies=[allow(Permission.questions_manage)])
def edit(key: str, session: SessionDep, actor: FormActorDep, form: FormDep) -> Response:
    question = catalogue.get_question(session=session, key=key)
    old = catalogue.current_version(session=session, question=question)
    wording = Wording(
        texts={lang: str(form.get(f"text_{lang}", "")) for lang in LANGUAGES},
        follow_up={lang: str(form.get(f"follow_{lang}", "")) for lang in LANGUAGES}
        if old.follow_up
        else None,
        options=old.options,
    )
    changes = {
        "priority": int(str(form.get("priority") or question.priority)),
        "recontact_days": int(str(form.get("recontact_days") or question.recontact_days)),
        "active": form.get("active") == "on",
    }
    catalogue.edit_question(
        session=session, key=key, wording=wording, actor=actor, settings=changes
    )
    session.commit()
    return RedirectResponse(f"/staff/dialogues#q-{key}", status_code=303)


@router.get(
    "/dialogues/responses",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.dialogues_read)],
)
def responses(
    request: Request,
    session: SessionDep,
    question: str = "",
    channel: str = "",
    language: str = "",
    max_score: str = "",
) -> HTMLResponse:
    rows = metrics.explore(
        session=session,
        question_key=question or None,
        channel=channel or None,
        language=language or None,
        max_score=int(max_score) if max_score.lstrip("-").isdigit() else None,
    )
    return render(
        request,
        "dialogues/staff_responses.html",
        nav="dialogues",
        rows=rows,
        words=question_words(session),
        questions=catalogue.list_questions(session=session),
        languages=LANGUAGES,
        filters={
            "question": question,
            "channel": channel,
            "language": language,
            "max_score": max_score,
        },
    )


def _dimension(value: str) -> str:
    return value if value in metrics.DIMENSIONS else "channel"


@router.get(
    "/dialogues/metrics",
    response_class=HTMLResponse,
    dependencies=[allow(Permission.dialogues_read)],
)
def dashboard(
    request: Request,
    session: SessionDep,
    dimension: str = "channel",
    trait: str = "segment",
) -> HTMLResponse:
    dimension = _dimension(dimension)
    rows = metrics.compute(session=session, dimension=dimension, trait=trait)
    chart = Markup(metrics.svg_nps_chart(rows, title=f"NPS by {dimension}"))  # noqa: S704 (numbers, escaped labels)
    return render(
        request,
        "dialogues/staff_metrics.html",
        nav="dialogues",
        rows=rows,
        chart=chart,
        dimension=dimension,
        trait=trait,
        dimensions=metrics.DIMENSIONS,
    )


@router.get("/dialogues/metrics.csv", dependencies=[allow(Permission.dialogues_read)])
def dashboard_csv(
    session: SessionDep, dimension: str = "channel", trait: str = "segment"
) -> PlainTextResponse:
    dimension = _dimension(dimension)
    text = metrics.to_csv(
        metrics.compute(session=session, dimension=dimension, trait=trait), dimension
    )
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="dialogue-metrics-{dimension}.csv"'},
    )


@router.get("/cases", response_class=HTMLResponse, dependencies=[allow(Permission.cases_read)])
def inbox(
    request: Request, session: SessionDep, status: str = "", assignee: str = ""
) -> HTMLResponse:
    return render(
        request,
        "dialogues/staff_inbox.html",
        nav="cases",
        cases=cases.inbox(session=session, status=status or None, assignee=assignee or None),
        status=status,
        assignee=assignee,
        now=utcnow(),
    )


@router.get(
    "/cases/{case_id}", response_class=HTMLResponse, dependencies=[allow(Permission.cases_read)]
)
def case_page(case_id: EntityId, request: Request, session: SessionDep) -> HTMLResponse:
    case = cases.get_case(session=session, case_id=case_id)
    found = metrics.explore_response(session=session, response_id=case.response_id)
    return render(
        request,
        "dialogues/staff_case.html",
        nav="cases",
        case=case,
        found=found,
        words=question_words(session),
        notes=cases.notes(session=session, case_id=case_id),
    )


@router.post("/cases/{case_id}/{action}", dependencies=[allow(Permission.cases_work)])
def case_action(
    case_id: EntityId,
    action: str,
    session: SessionDep,
    settings: SettingsDep,
    actor: FormActorDep,
    form: FormDep,
) -> Response:
    body = str(form.get("body", ""))
    if action == "assign":
        cases.assign(
            session=session,
            case_id=case_id,
            actor=actor,
            assignee=str(form.get("assignee") or actor.label),
        )
    elif action in ("note", "reply"):
        cases.add_note(
            session=session, case_id=case_id, body=body, actor=actor, reply=action == "reply"
        )
    elif action == "resolve":
        cases.resolve(
            session=session,
            settings=settings,
            case_id=case_id,
            actor=actor,
            summary=body,
            ask_recovery=form.get("recovery") == "on",
        )
    else:
        return Response(status_code=404)
    session.commit()
    return RedirectResponse(f"/staff/cases/{case_id}", status_code=303)
