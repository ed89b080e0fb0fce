"""Typed dependencies shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.customers.service import Defaults
from tillit.errors import PermissionDenied, Unauthenticated
from tillit.staff import service as staff
from tillit.staff.models import ApiToken
from tillit.staff.scopes import allows
from tillit.storage.base import utcnow
from tillit.web.expiring import ExpiringCache


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
# thread pool, and each hop there and back costs more than the work itself.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request. Routes commit explicitly before answering 2xx, so the answer is
    only sent once the data is durable; anything not committed is rolled back here."""
    # Some GETs write (a GPC signal on the preference centre, a widget issuing its question),
    # so requests get ordinary sessions; read-only ones are used where a path is known to be
    # read-only (token checks, contact decisions that are not logged).
    with request.app.state.sessions() as session:
        yield session


def get_defaults(settings: SettingsDep) -> Defaults:
    return Defaults(
        country=settings.default_country,
        language=settings.default_language,
        time_zone=settings.default_time_zone,
    )


async def _defaults(settings: SettingsDep) -> Defaults:
    return get_defaults(settings)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
DefaultsDep = Annotated[Defaults, Depends(_defaults)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `tillit tokens create`.")


TOKEN_CACHE_SECONDS = 10.0  # a revoked token stops working within this long in every worker


@dataclass(frozen=True)
class CheckedToken:
    scopes: list[str]
    actor: Actor
    seconds_left: float | None  # until the token expires; None: it does not


def _check_token(request: Request, plaintext: str) -> CheckedToken:
    # Its own short transactions, so checking a token never holds a lock for the request.
    with request.app.state.read_sessions() as session:
        token: ApiToken = staff.resolve_token(session=session, plaintext=plaintext)
        touched = token.last_used_at if session.dirty else None
        checked = CheckedToken(
            scopes=list(token.scopes),
            actor=staff.token_actor(token),
            seconds_left=None
            if token.expires_at is None
            else (token.expires_at - utcnow()).total_seconds(),
        )
        token_id = token.id
        session.rollback()
    if touched is not None:  # at most once a minute per token
        with request.app.state.sessions() as writer, writer.begin():
            staff.touch_token(session=writer, token_id=token_id, at=touched)
    return checked


@dataclass(frozen=True)
class RequiresScope:
    """The dependency behind ``require_scope``; the route test finds it in every API route."""

    scope: str

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        if credentials is None:
            raise Unauthenticated("send an API token as 'Authorization: Bearer <token>'")
        cache: ExpiringCache[CheckedToken] = request.app.state.token_cache
        key = staff.hash_secret(credentials.credentials)
        checked = cache.get(key)
        if checked is None:
            checked = await run_in_threadpool(_check_token, request, credentials.credentials)
            cache.put(key, checked, seconds=checked.seconds_left)
        if not allows(checked.scopes, self.scope):
            raise PermissionDenied(f"this token lacks the scope {self.scope!r}")
        return replace(checked.actor, ip=client_ip(request))


def require_scope(scope: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency that admits API tokens carrying ``scope`` and returns the acting token.

    A token that checked out is trusted for a few seconds without asking the database again
    (``TOKEN_CACHE_SECONDS``, see tillit.web.expiring), never past its own expiry.
    """
    return RequiresScope(scope)
