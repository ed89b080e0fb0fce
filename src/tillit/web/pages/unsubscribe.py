"""One-click unsubscribe (RFC 8058). POST unsubscribes with no cookie, login or CSRF token
(mail providers send it blind) and answers 200, never a redirect; GET only asks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tillit.consent.unsubscribe import apply_unsubscribe, list_name, resolve_unsubscribe
from tillit.customers.models import Customer
from tillit.customers.service import find_customer
from tillit.i18n import negotiate
from tillit.web.deps import SessionDep, SettingsDep
from tillit.web.pages.preference_centre import customer_actor, evidence_of
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)


def _language(request: Request, customer: Customer | None) -> str:
    return negotiate(
        request.query_params.get("lang"),
        customer.language if customer else None,
        accept_language=request.headers.get("accept-language"),
    )


@router.get("/u/{token}", response_class=HTMLResponse)
def confirm(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    entry = resolve_unsubscribe(session=session, token=token, secret_key=settings.secret_key)
    customer = find_customer(session=session, customer_id=entry.customer_id)
    language = _language(request, customer)
    return render(
        request,
        "consent/unsubscribe.html",
        language=language,
        token=token,
        done=False,
        subject=list_name(session=session, entry=entry, language=language),
    )


@router.post("/u/{token}", response_class=HTMLResponse)
def one_click(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    # The body (List-Unsubscribe=One-Click, urlencoded or multipart) only says "one click";
    # the token alone names who and what, so any POST to a valid token unsubscribes.
    entry = resolve_unsubscribe(session=session, token=token, secret_key=settings.secret_key)
    apply_unsubscribe(
        session=session,
        entry=entry,
        evidence=evidence_of(request),
        actor=customer_actor(entry.customer_id),
    )
    session.commit()
    customer = find_customer(session=session, customer_id=entry.customer_id)
    language = _language(request, customer)
    return render(
        request,
        "consent/unsubscribe.html",
        language=language,
        token=token,
        done=True,
        subject=list_name(session=session, entry=entry, language=language),
    )
