"""Dialogues over HTTP for apps, chat bots, kiosks and the embeddable widget.

- ``GET  /api/v1/dialogues/customers/{id}/next``  next question (204: nothing to ask now)
- ``POST /api/v1/dialogues/asks/{id}/answer``      submit an answer
- ``GET  /api/v1/dialogues/widget/{widget token}/next``  the same for the widget, authorised
  by a per-customer widget token (``tillit.dialogues.widget.widget_token``) instead of an API
  token; answers go to ``POST /d/{ask token}`` with ``Accept: application/json``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.dialogues import ask_links, asks, catalogue, profiling, widget
from tillit.dialogues.catalogue import SCALES
from tillit.dialogues.responses import Answer, submit
from tillit.errors import NotFound
from tillit.i18n import negotiate, translations
from tillit.staff.scopes import DIALOGUES
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, SettingsDep, require_scope

router = APIRouter(prefix="/dialogues", tags=["dialogues"])
Caller = Annotated[Actor, Depends(require_scope(DIALOGUES))]


class QuestionPublic(BaseModel):
    ask_id: int
    token: str = Field(description="The ask's personal token; /d/{token} answers it too.")
    url: str
    key: str
    type: str
    language: str
    text: str
    follow_up: str | None
    options: list[dict[str, str]]
    scale: list[int] | None
    reason: str = Field(description="Why this question was chosen (explainable selection).")
    submit_label: str = Field("Send answer", description="The submit button, in the language")


class AnswerCreate(BaseModel):
    score: int | None = None
    choices: list[str] = Field(default_factory=list)
    text: str | None = None
    follow_up: str | None = None


class AnswerPublic(BaseModel):
    response_id: int
    status: str


def public(
    session: SessionDep,
    settings: Settings,
    issued: ask_links.IssuedAsk,
    language: str | None = None,
) -> QuestionPublic:
    ask = issued.ask
    question, version = asks.question_of(session=session, ask=ask)
    lang = negotiate(language, ask.language)
    low_high = SCALES.get(question.type)
    return QuestionPublic(
        ask_id=ask.id,
        token=issued.token,
        url=issued.url(settings.base_url),
        key=question.key,
        type=question.type,
        language=lang,
        text=catalogue.text_in(version.texts, lang),
        follow_up=catalogue.text_in(version.follow_up, lang) if version.follow_up else None,
        options=[{"value": v, "label": label} for v, label in catalogue.options_in(version, lang)],
        scale=list(range(low_high[0], low_high[1] + 1)) if low_high else None,
        reason=ask.reason,
        submit_label=translations(lang).gettext("Send answer"),
    )


@router.get(
    "/customers/{customer_id}/next",
    response_model=QuestionPublic,
    responses={204: {"description": "Nothing may be asked now (fatigue or choice)."}},
)
def next_for_customer(
    customer_id: EntityId,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Caller,
    channel: str = "api",
    language: str | None = None,
) -> QuestionPublic | Response:
    asks.language_of(session, customer_id)  # 404 for an unknown customer
    issued = profiling.next_question(
        session=session,
        settings=settings,
        customer_id=customer_id,
        channel=channel if channel in asks.IN_PLACE else "api",
    )
    if issued is None:
        return Response(status_code=204)
    session.commit()
    return public(session, settings, issued, language)


@router.post("/asks/{ask_id}/answer", response_model=AnswerPublic, status_code=201)
def answer_ask(
    ask_id: EntityId,
    body: AnswerCreate,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Caller,
) -> AnswerPublic:
    ask = asks.ask_by_id(session=session, ask_id=ask_id)
    if ask is None:
        raise NotFound(f"ask {ask_id} does not exist")
    response = submit(
        session=session,
        settings=settings,
        ask=ask,
        answer=Answer(
            score=body.score, choices=tuple(body.choices), text=body.text, follow_up=body.follow_up
        ),
    )
    session.commit()
    return AnswerPublic(response_id=response.id, status=ask.status)


@router.get(
    "/widget/{widget_token}/next",
    response_model=QuestionPublic,
    responses={204: {"description": "Nothing may be asked now."}},
)
def next_for_widget(
    widget_token: str, session: SessionDep, settings: SettingsDep, language: str | None = None
) -> QuestionPublic | Response:
    customer_id = widget.resolve_widget_token(widget_token, settings.secret_key)
    issued = profiling.next_question(
        session=session, settings=settings, customer_id=customer_id, channel="widget"
    )
    if issued is None:
        return Response(status_code=204)
    session.commit()
    return public(session, settings, issued, language)
