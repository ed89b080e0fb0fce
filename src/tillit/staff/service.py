"""Staff users, browser sessions and API tokens.

Passwords are hashed with argon2id. Session and API tokens are long random strings, so a single
SHA-256 is enough to store them safely (there is nothing to brute-force); only hashes are kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.customers.normalise import InvalidIdentity, normalise_email
from tillit.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthenticated
from tillit.staff.models import ApiToken, Role, StaffSession, StaffUser
from tillit.staff.scopes import ALL_SCOPES
from tillit.storage.base import utcnow

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("tillit-timing-equaliser")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "tlt"  # noqa: S105 - a public marker that helps secret scanners, not a secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    *, session: Session, email: str, name: str, role: Role | str, password: str, actor: Actor
) -> StaffUser:
    errors = []
    try:
        email = normalise_email(email.strip())
    except InvalidIdentity as error:
        errors.append(FieldError("email", str(error)))
    if role not in set(Role):
        errors.append(FieldError("role", f"must be one of {', '.join(Role)}"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if errors:
        raise InvalidInput(errors)
    if session.scalar(select(StaffUser).where(StaffUser.email == email)) is not None:
        raise Conflict(f"a staff user with e-mail {email} already exists")
    user = StaffUser(email=email, name=name, role=Role(role), password_hash=_hasher.hash(password))
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise Conflict(f"a staff user with e-mail {email} already exists") from error
    record(
        session=session,
        actor=actor,
        action="staff.create",
        entity_type="staff_user",
        entity_id=user.id,
        after={"email": email, "name": name, "role": str(role)},
    )
    return user


def normal_login_email(email: str) -> str | None:
    """The e-mail as staff accounts store it; None when what was typed is no e-mail address."""
    try:
        return normalise_email(email.strip())
    except InvalidIdentity:
        return None


def authenticate(*, session: Session, email: str, password: str) -> StaffUser:
    email = normal_login_email(email) or email.strip()
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError) as error:
        raise Unauthenticated("wrong e-mail or password") from error
    if user is None or not user.active:
        raise Unauthenticated("wrong e-mail or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie; never stored
    csrf_token: str
    expires_at: datetime


def start_session(
    *, session: Session, user: StaffUser, hours: int, user_agent: str | None = None
) -> NewSession:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=hours)
    csrf = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=hash_secret(token),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=expires_at,
            user_agent=(user_agent or "")[:300],
        )
    )
    # Housekeeping: expired sessions are useless and only grow the table.
    session.execute(delete(StaffSession).where(StaffSession.expires_at < utcnow()))
    return NewSession(token=token, csrf_token=csrf, expires_at=expires_at)


def resolve_session(*, session: Session, token: str) -> StaffSession | None:
    found = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == hash_secret(token))
    )
    if found is None or found.expires_at <= utcnow() or not found.user.active:
        return None
    return found


def end_session(*, session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.token_hash == hash_secret(token)))


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    plaintext: str  # shown once to whoever created it


def create_token(
    *,
    session: Session,
    name: str,
    scopes: list[str],
    actor: Actor,
    created_by: StaffUser | None = None,
    days: int | None = None,
) -> NewToken:
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise InvalidInput(
            FieldError(
                "scopes", f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}"
            )
        )
    if not scopes:
        raise InvalidInput(FieldError("scopes", "name at least one scope"))
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name,
        prefix=prefix,
        token_hash=hash_secret(plaintext),
        scopes=sorted(set(scopes)),
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="token.create",
        entity_type="api_token",
        entity_id=token.id,
        after={"name": name, "prefix": prefix, "scopes": token.scopes},
    )
    return NewToken(token=token, plaintext=plaintext)


def resolve_token(*, session: Session, plaintext: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(plaintext)))
    now = utcnow()
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API token")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("API token expired")
    # Touch at most once a minute, so a busy integration does not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token


def list_tokens(*, session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def touch_token(*, session: Session, token_id: int, at: datetime) -> None:
    """Record when a token was last used (``resolve_token`` says when that is due)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


def revoke_token(*, session: Session, token_id: int, actor: Actor) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"API token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(
            session=session,
            actor=actor,
            action="token.revoke",
            entity_type="api_token",
            entity_id=token.id,
            before={"revoked": False},
            after={"revoked": True},
        )
    return token


def staff_actor(user: StaffUser, ip: str | None = None) -> Actor:
    return Actor(type="staff", id=str(user.id), label=user.email, ip=ip)


def token_actor(token: ApiToken, ip: str | None = None) -> Actor:
    return Actor(
        type="token", id=str(token.id), label=f"token {token.name} ({token.prefix})", ip=ip
    )
