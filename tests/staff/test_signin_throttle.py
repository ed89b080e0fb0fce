"""The sign-in throttle: at most ten failures per account and per address, then 429."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.staff import throttle
from tillit.staff.models import SigninThrottle, StaffSession, StaffUser
from tillit.storage.base import utcnow
from tillit.web.pages.auth import LOGIN_CSRF_COOKIE

STAFF_PASSWORD = "correct horse battery staple"  # the staff_user fixture's
WRONG = "not-the-password-0123"
LIMITS = throttle.Limits()  # the defaults the settings give: 10 failures, 15 minutes
HERE = "198.51.100.7"  # documentation addresses (RFC 5737, RFC 3849)
THERE = "203.0.113.9"


def sign_in(client: TestClient, email: str, password: str):
    page = client.get("/staff/login")
    assert page.status_code == 200
    return client.post(
        "/staff/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": client.cookies[LOGIN_CSRF_COOKIE],
        },
        follow_redirects=False,
    )


def wrong(sessions, *, email="ada@example.com", address=HERE, now=None) -> throttle.Attempt:
    """One attempt with a wrong password, as the sign-in route makes it."""
    with sessions() as session, session.begin():
        attempt = throttle.admit(
            session=session, email=email, address=address, limits=LIMITS, now=now
        )
    if not attempt.retry_after:
        with sessions() as session, session.begin():
            throttle.failed(session=session, attempt=attempt, limits=LIMITS, now=now)
    return attempt


def right(sessions, *, email="ada@example.com", address=HERE, now=None) -> throttle.Attempt:
    with sessions() as session, session.begin():
        attempt = throttle.admit(
            session=session, email=email, address=address, limits=LIMITS, now=now
        )
    if not attempt.retry_after:
        with sessions() as session, session.begin():
            throttle.succeeded(session=session, attempt=attempt, limits=LIMITS, now=now)
    return attempt


def test_ten_wrong_passwords_lock_the_account_even_against_the_right_one(
    client, sessions, staff_user
):
    answers = [sign_in(client, "ada@example.com", WRONG).status_code for _ in range(10)]
    assert answers == [401] * 9 + [429]  # the tenth failure says so at once
    # The attack went on to 30 guesses: none of the rest is even checked.
    for password in [WRONG] * 20 + [STAFF_PASSWORD]:
        refused = sign_in(client, "ADA@example.com ", password)
        assert refused.status_code == 429
    assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "Too many failed sign-ins. Try again in 15 minutes." in refused.text
    assert "tillit_session" not in refused.headers.get("set-cookie", "")
    with sessions() as session:
        assert session.scalars(select(StaffSession)).all() == []
        assert session.get(StaffUser, staff_user.id).last_login_at is None


def test_an_unknown_email_locks_alike(client):
    """A lock must not tell which e-mails have accounts."""
    answers = [sign_in(client, "nobody@example.com", WRONG).status_code for _ in range(11)]
    assert answers == [401] * 9 + [429, 429]


def test_one_address_is_locked_across_emails(client, staff_user):
    for n in range(10):
        sign_in(client, f"guess{n}@example.com", WRONG)
    refused = sign_in(client, staff_user.email, STAFF_PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # Another address signs in to the same account: it was never guessed at.
    elsewhere = TestClient(client.app, client=(THERE, 50000))
    assert sign_in(elsewhere, staff_user.email, STAFF_PASSWORD).status_code == 303


def test_a_locked_account_is_locked_from_every_address(sessions):
    now = utcnow()
    for n in range(10):
        wrong(sessions, address=f"192.0.2.{n}", now=now)
    assert right(sessions, address=THERE, now=now).retry_after == 15 * 60


def test_failures_count_for_a_window_and_a_lock_ends(sessions):
    start = utcnow()
    for n in range(9):
        assert not wrong(sessions, now=start + timedelta(seconds=n)).retry_after
    # Sixteen minutes later the nine old failures no longer count: ten more are let through.
    later = start + timedelta(minutes=16)
    for n in range(10):
        assert not wrong(sessions, now=later + timedelta(seconds=n)).retry_after
    locked_at = later + timedelta(seconds=9)
    assert wrong(sessions, now=locked_at + timedelta(minutes=14, seconds=59)).retry_after == 1
    assert not right(sessions, now=locked_at + timedelta(minutes=15)).retry_after


def test_a_success_clears_the_account_but_not_the_address(sessions):
    now = utcnow()
    for _ in range(9):
        wrong(sessions, now=now)
    assert not right(sessions, now=now).retry_after
    for _ in range(9):  # the account starts afresh: nine more are no lock
        assert not wrong(sessions, email="ada@example.com", address=THERE, now=now).retry_after
    # The address still holds its nine failures: signing in to one's own account between
    # guesses must not reset it.
    assert not wrong(sessions, email="other@example.com", now=now).retry_after
    assert wrong(sessions, email="third@example.com", now=now).retry_after


def test_an_ipv6_host_cannot_rotate_through_its_64(sessions):
    now = utcnow()
    for n in range(10):
        wrong(sessions, email=f"guess{n}@example.com", address=f"2001:db8:1:2::{n:x}", now=now)
    same_64, next_64 = "2001:db8:1:2:ffff::1", "2001:db8:1:3::1"
    assert right(sessions, email="x@example.com", address=same_64, now=now).retry_after
    assert not right(sessions, email="x@example.com", address=next_64, now=now).retry_after


def test_locks_and_refusals_are_audited_without_the_password(client, sessions):
    for _ in range(11):
        sign_in(client, "Nobody@Example.com", WRONG)
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.after.get("locked")) for e in entries] == [
        ("staff.signin_locked", "account"),
        ("staff.signin_locked", "address"),
        ("staff.signin_refused", None),
    ]
    for entry in entries:
        assert (entry.actor_type, entry.actor_label, entry.ip) == ("address", *["testclient"] * 2)
        assert entry.after["email"] == "nobody@example.com"
        assert WRONG not in repr((entry.before, entry.after, entry.actor_label))
    assert entries[0].after["locked_seconds"] == 15 * 60
    assert 0 < entries[2].after["retry_after_seconds"] <= 15 * 60


def test_what_is_no_email_is_never_stored(sessions):
    """People type passwords into the e-mail box: neither the throttle nor the audit keeps it."""
    now = utcnow()
    for _ in range(11):
        wrong(sessions, email=WRONG, now=now)
    with sessions() as session:
        keys = session.scalars(select(SigninThrottle.key)).all()
        entries = session.scalars(select(AuditEntry)).all()
    assert len(keys) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
    assert entries and all(entry.after["email"] is None for entry in entries)


def test_parallel_attempts_check_no_more_than_the_limit(engine, sessions):
    """Reservations are atomic: twenty attempts at once, ten let through, in any process."""
    now = utcnow()
    start = threading.Barrier(20)
    admitted: list[bool] = []

    def attempt() -> None:
        start.wait()
        with sessions() as session, session.begin():
            verdict = throttle.admit(
                session=session, email="ada@example.com", address=HERE, limits=LIMITS, now=now
            )
        admitted.append(not verdict.retry_after)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 10
    with sessions() as session:  # the refused ten took their reservations back
        counts = session.scalars(select(SigninThrottle.failures)).all()
    assert counts == [10, 10]
