"""Typed dependencies shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.errors import PermissionDenied, Unauthenticated
from tillit.staff import service as staff
from tillit.staff.models import ApiToken
from tillit.staff.scopes import allows


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request. Routes commit explicitly before answering 2xx, so the answer is
    only sent once the data is durable; anything not committed is rolled back here."""
    with request.app.state.sessions() as session:
        yield session


def get_defaults(settings: SettingsDep) -> Defaults:
    return Defaults(
        country=settings.default_country,
        language=settings.default_language,
        time_zone=settings.default_time_zone,
    )


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
DefaultsDep = Annotated[Defaults, Depends(get_defaults)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `tillit tokens create`.")


def require_scope(scope: str) -> Callable[..., Actor]:
    """A dependency that admits API tokens carrying ``scope`` and returns the acting token."""

    def dependency(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        if credentials is None:
            raise Unauthenticated("send an API token as 'Authorization: Bearer <token>'")
        token: ApiToken = staff.resolve_token(session=session, plaintext=credentials.credentials)
        if not allows(token.scopes, scope):
            raise PermissionDenied(f"this token lacks the scope {scope!r}")
        session.commit()  # keeps last_used_at; nothing else is pending yet
        return staff.token_actor(token, ip=client_ip(request))

    return dependency
