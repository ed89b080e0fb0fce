"""Staff sign-in and sign-out."""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.audit.service import record
from tillit.config import Settings
from tillit.errors import Unauthenticated
from tillit.staff import service as staff
from tillit.staff import throttle
from tillit.web.deps import SessionDep, SettingsDep, client_ip
from tillit.web.pages.staff_auth import SESSION_COOKIE, FormActorDep
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)
# Before sign-in there is no session to hold a CSRF token: a double-submit cookie stands in.
LOGIN_CSRF_COOKIE = "tillit_login_csrf"
LOCKED_ONE = "Too many failed sign-ins. Try again in %(minutes)d minute."
LOCKED_MANY = "Too many failed sign-ins. Try again in %(minutes)d minutes."


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/staff", status_code=303)


@router.get("/staff/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/staff") -> Response:
    return _login_page(request, settings, next_url=next)


@router.post("/staff/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/staff",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return _login_page(
            request,
            settings,
            next_url=next,
            status_code=403,
            error="Your sign-in form expired. Please try again.",
        )
    limits = _limits(settings)
    attempt = throttle.admit(
        session=session, email=email, address=client_ip(request), limits=limits
    )
    session.commit()  # the reservation counts in every worker before the password is checked
    if attempt.retry_after:
        return _locked_page(request, settings, next_url=next, email=email, attempt=attempt)
    try:
        user = staff.authenticate(session=session, email=email, password=password)
    except Unauthenticated:
        locked_for = throttle.failed(session=session, attempt=attempt, limits=limits)
        session.commit()
        if locked_for:
            attempt = replace(attempt, retry_after=locked_for)
            return _locked_page(request, settings, next_url=next, email=email, attempt=attempt)
        return _login_page(
            request,
            settings,
            next_url=next,
            status_code=401,
            email=email,
            error="Wrong e-mail or password.",
        )
    throttle.succeeded(session=session, attempt=attempt, limits=limits)
    new = staff.start_session(
        session=session,
        user=user,
        hours=settings.session_hours,
        user_agent=request.headers.get("user-agent"),
    )
    record(
        session=session,
        actor=staff.staff_actor(user, ip=client_ip(request)),
        action="staff.login",
        entity_type="staff_user",
        entity_id=user.id,
    )
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
    return response


@router.post("/staff/logout")
def logout(request: Request, session: SessionDep, actor: FormActorDep) -> Response:
    staff.end_session(session=session, token=request.cookies.get(SESSION_COOKIE, ""))
    record(
        session=session,
        actor=actor,
        action="staff.logout",
        entity_type="staff_user",
        entity_id=actor.id,
    )
    session.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _limits(settings: Settings) -> throttle.Limits:
    return throttle.Limits(
        max_failures=settings.signin_max_failures,
        window=timedelta(minutes=settings.signin_lock_minutes),
    )


def _locked_page(
    request: Request,
    settings: SettingsDep,
    *,
    next_url: str,
    email: str,
    attempt: throttle.Attempt,
) -> Response:
    minutes = math.ceil(attempt.retry_after / 60)
    return _login_page(
        request,
        settings,
        next_url=next_url,
        status_code=429,
        email=email,
        # Whole sentences with the number inside, ready for a catalog once staff pages are
        # translated (today they are English only, as "Wrong e-mail or password." is).
        error=(LOCKED_ONE if minutes == 1 else LOCKED_MANY) % {"minutes": minutes},
        headers={"Retry-After": str(attempt.retry_after)},
    )


def _login_page(
    request: Request,
    settings: SettingsDep,
    *,
    next_url: str,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        headers=headers,
        login_csrf=token,
        next_url=_safe_next(next_url),
        error=error,
        email=email,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/staff/login",
    )
    return response


def _safe_next(target: str) -> str:
    """Only same-site paths: never let ?next= send a signed-in user to another site."""
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/staff"
    return target
