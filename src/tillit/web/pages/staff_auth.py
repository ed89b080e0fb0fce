"""Who is looking at a staff page, and the CSRF check every staff form passes."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Form, Request

from tillit.audit.service import Actor
from tillit.errors import PermissionDenied, Unauthenticated
from tillit.staff import service as staff
from tillit.staff.models import Role, StaffUser
from tillit.web.deps import SessionDep, client_ip

SESSION_COOKIE = "tillit_session"


def current_staff(request: Request, session: SessionDep) -> StaffUser:
    token = request.cookies.get(SESSION_COOKIE)
    found = staff.resolve_session(session=session, token=token) if token else None
    if found is None:
        raise Unauthenticated("please sign in")
    request.state.staff = found.user
    request.state.csrf_token = found.csrf_token
    return found.user


StaffDep = Annotated[StaffUser, Depends(current_staff)]


def checked_form_actor(
    request: Request, user: StaffDep, csrf_token: Annotated[str, Form()] = ""
) -> Actor:
    """For POSTed staff forms: refuse a missing or wrong CSRF token, return the acting staff."""
    expected = request.state.csrf_token
    if not csrf_token or not hmac.compare_digest(csrf_token, expected):
        raise PermissionDenied("the form's security token is missing or stale; reload the page")
    return staff.staff_actor(user, ip=client_ip(request))


FormActorDep = Annotated[Actor, Depends(checked_form_actor)]


def require_role(user: StaffUser, *roles: Role) -> None:
    if user.role != Role.admin and user.role not in roles:
        raise PermissionDenied(f"this page needs the role {' or '.join(roles)}")
