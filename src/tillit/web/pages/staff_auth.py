"""Who is looking at a staff page, what their role allows, and the CSRF check every staff form
passes."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tillit.audit.service import Actor, record
from tillit.errors import PermissionDenied, Unauthenticated
from tillit.staff import service as staff
from tillit.staff.models import StaffUser
from tillit.staff.permissions import MEANING, Permission, allowed
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


@dataclass(frozen=True)
class RequiresPermission:
    """The dependency behind ``allow``; the route test finds it in every staff route."""

    permission: Permission

    async def __call__(self, request: Request, user: StaffDep, session: SessionDep) -> None:
        if allowed(user.role, self.permission):
            return
        await run_in_threadpool(_record_denial, session, request, user, self.permission)
        raise PermissionDenied(
            f"your role ({user.role.replace('_', ' ')}) does not include {self.permission}: "
            f"{MEANING[self.permission]}"
        )


def allow(permission: Permission) -> Any:
    """``@router.get(path, dependencies=[allow(Permission.x)])``: signed-in staff whose role
    holds ``permission`` get through; others get a 403 page, and the refusal is audited."""
    return Depends(RequiresPermission(permission))


def _record_denial(
    session: Session, request: Request, user: StaffUser, permission: Permission
) -> None:
    # Committed before the 403 goes out: a refused attempt is worth knowing about even though
    # nothing else in the request happens.
    record(
        session=session,
        actor=staff.staff_actor(user, ip=client_ip(request)),
        action="staff.denied",
        entity_type="staff_user",
        entity_id=user.id,
        after={"method": request.method, "path": request.url.path[:300], "needs": permission},
    )
    session.commit()
