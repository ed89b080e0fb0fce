"""The sign-in throttle: at most ``max_failures`` failed sign-ins per account and per client
address in a window; past that, every attempt is refused, without checking the password, until
the lock ends.

An attempt *reserves* its failure before the password is checked (``admit``): one atomic
upsert per counter, committed by the caller before the (slow) check. So parallel attempts, in
any number of server processes, each see the counts of those before them, and no more than
``max_failures`` passwords are ever checked per window; nothing is held locked meanwhile. A
wrong password leaves the reservation standing and locks whichever counter reached the limit
(``failed``); a right one takes it back (``succeeded``).

Failures count whether or not the e-mail belongs to an account, so a lock says nothing about
which accounts exist. A successful sign-in clears its account's counter but not its address's:
otherwise signing in to one's own account between guesses would reset the address's count.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, case, delete, literal, null, or_, update
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.staff.models import SigninThrottle
from tillit.staff.service import normal_login_email
from tillit.storage.base import UtcDateTime, utcnow
from tillit.storage.upsert import upsert

THROTTLE = cast(Table, SigninThrottle.__table__)
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Limits:
    max_failures: int = 10
    window: timedelta = timedelta(minutes=15)  # failures count this long; a lock lasts as long


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, as ``admit`` saw it. ``retry_after`` is 0 when it may go ahead;
    otherwise the seconds until the account or address is let through again."""

    email: str | None  # the normalised e-mail; None when what was typed is no e-mail address
    address: str
    account_key: str
    address_key: str
    retry_after: int = 0

    @property
    def keys(self) -> tuple[str, str]:
        return (self.account_key, self.address_key)


def admit(
    *,
    session: Session,
    email: str,
    address: str | None,
    limits: Limits,
    now: datetime | None = None,
) -> Attempt:
    """Reserves a failure on the account's and the address's counters, or refuses the attempt
    (audited) when either is locked. ``email`` is as typed."""
    now = now or utcnow()
    address = address or UNKNOWN_ADDRESS
    normal = normal_login_email(email)
    attempt = Attempt(
        email=normal,
        address=address,
        account_key=_key("account", normal or email.strip()),
        address_key=_key("address", _address_block(address)),
    )
    counters = [_reserve(session, key, now, limits) for key in attempt.keys]
    wait = max(_wait(row, now, limits) for row in counters)
    if not wait:
        return attempt
    # A refused attempt checks no password, so it is no failure: take back what it reserved.
    reserved = [
        key for key, row in zip(attempt.keys, counters, strict=True) if not _locked(row, now)
    ]
    _release(session, reserved)
    _audit(session, attempt, "staff.signin_refused", retry_after_seconds=wait)
    return replace(attempt, retry_after=wait)


def failed(
    *, session: Session, attempt: Attempt, limits: Limits, now: datetime | None = None
) -> int:
    """After a wrong password: locks each counter this failure brought to the limit (audited).
    Returns the lock's seconds when it locked one, else 0."""
    now = now or utcnow()
    locked_until = now + limits.window
    locked = session.scalars(
        update(THROTTLE)
        .where(
            THROTTLE.c.key.in_(attempt.keys),
            THROTTLE.c.failures >= limits.max_failures,
            or_(THROTTLE.c.locked_until.is_(None), THROTTLE.c.locked_until <= now),
        )
        .values(locked_until=locked_until)
        .returning(THROTTLE.c.key)
    ).all()
    if not locked:
        return 0
    seconds = math.ceil(limits.window.total_seconds())
    for key in sorted(locked, key=attempt.keys.index):
        scope = "account" if key == attempt.account_key else "address"
        _audit(session, attempt, "staff.signin_locked", locked=scope, locked_seconds=seconds)
    return seconds


def succeeded(
    *, session: Session, attempt: Attempt, limits: Limits, now: datetime | None = None
) -> None:
    """After the right password: the account starts afresh; the address's reservation is
    taken back. Counters whose window and lock are over go too (nothing else removes them)."""
    now = now or utcnow()
    session.execute(delete(THROTTLE).where(THROTTLE.c.key == attempt.account_key))
    _release(session, [attempt.address_key])
    session.execute(
        delete(THROTTLE).where(
            THROTTLE.c.window_start <= now - limits.window,
            or_(THROTTLE.c.locked_until.is_(None), THROTTLE.c.locked_until <= now),
        )
    )


def _reserve(session: Session, key: str, now: datetime, limits: Limits) -> Row[Any]:
    """Counts one more failure (a fresh window when the last one is over); a locked counter
    is left as it is. Returns the counter as it now stands."""
    locked = THROTTLE.c.locked_until > now
    stale = THROTTLE.c.window_start <= now - limits.window
    when = literal(now, UtcDateTime())
    statement = (
        upsert(session, THROTTLE)
        .values(key=key, failures=1, window_start=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[THROTTLE.c.key],
            set_={
                "failures": case(
                    (locked, THROTTLE.c.failures), (stale, 1), else_=THROTTLE.c.failures + 1
                ),
                "window_start": case(
                    (locked, THROTTLE.c.window_start), (stale, when), else_=THROTTLE.c.window_start
                ),
                "locked_until": case((locked, THROTTLE.c.locked_until), else_=null()),
            },
        )
        .returning(THROTTLE.c.failures, THROTTLE.c.window_start, THROTTLE.c.locked_until)
    )
    return session.execute(statement).one()


def _release(session: Session, keys: list[str]) -> None:
    if keys:
        session.execute(
            update(THROTTLE)
            .where(THROTTLE.c.key.in_(keys), THROTTLE.c.failures > 0)
            .values(failures=THROTTLE.c.failures - 1)
        )


def _locked(counter: Row[Any], now: datetime) -> bool:
    return counter.locked_until is not None and counter.locked_until > now


def _wait(counter: Row[Any], now: datetime, limits: Limits) -> int:
    """Seconds until this counter lets an attempt through; 0: now."""
    if _locked(counter, now):
        return _seconds(counter.locked_until - now)
    if counter.failures > limits.max_failures:
        # More attempts than the limit are in flight (parallel requests): the window decides.
        return _seconds(counter.window_start + limits.window - now)
    return 0


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _audit(session: Session, attempt: Attempt, action: str, **details: Any) -> None:
    # Never the password, and the e-mail only when it is one (not a password in the wrong box).
    record(
        session=session,
        actor=Actor(
            type="address",
            id=None,
            label=attempt.address,
            ip=None if attempt.address == UNKNOWN_ADDRESS else attempt.address[:64],
        ),
        action=action,
        entity_type="sign_in",
        after={"email": attempt.email, "address": attempt.address, **details},
    )


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _address_block(address: str) -> str:
    """The unit one client controls: an IPv4 address, or an IPv6 /64 (a single host is usually
    given a whole /64, and could otherwise rotate through 2^64 addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)
