"""Typed dependencies shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import update
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
    read_only = request.method in ("GET", "HEAD")  # safe methods never write
    factory = request.app.state.read_sessions if read_only else request.app.state.sessions
    with factory() as session:
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
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        if credentials is None:
            raise Unauthenticated("send an API token as 'Authorization: Bearer <token>'")
        # Its own short transactions, so checking a token never holds a lock for the request.
        with request.app.state.read_sessions() as session:
            token: ApiToken = staff.resolve_token(
                session=session, plaintext=credentials.credentials
            )
            touched = token.last_used_at if session.dirty else None
            scopes, token_id = list(token.scopes), token.id
            actor = staff.token_actor(token, ip=client_ip(request))
            session.rollback()
        if not allows(scopes, scope):
            raise PermissionDenied(f"this token lacks the scope {scope!r}")
        if touched is not None:  # at most once a minute per token
            with request.app.state.sessions() as writer, writer.begin():
                writer.execute(
                    update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=touched)
                )
        return actor

    return dependency
