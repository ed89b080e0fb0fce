from datetime import timedelta

import pytest
from sqlalchemy import select

from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.errors import Conflict, InvalidInput, Unauthenticated
from tillit.staff import service as staff
from tillit.staff.models import ApiToken, StaffUser
from tillit.storage.base import utcnow

STAFF_PASSWORD = "correct horse battery staple"  # the staff_user fixture's

ACTOR = Actor.system("test")


def test_passwords_are_stored_as_argon2_hashes(sessions, staff_user):
    with sessions() as session:
        stored = session.get(StaffUser, staff_user.id).password_hash
    assert stored.startswith("$argon2id$") and STAFF_PASSWORD not in stored


def test_authenticate_accepts_the_password_and_nothing_else(sessions, staff_user):
    with sessions() as session, session.begin():
        assert (
            staff.authenticate(session=session, email="ADA@example.com", password=STAFF_PASSWORD).id
            == staff_user.id
        )
        for email, password in (
            ("ada@example.com", "wrong"),
            ("nobody@example.com", STAFF_PASSWORD),
        ):
            with pytest.raises(Unauthenticated):
                staff.authenticate(session=session, email=email, password=password)


def test_users_need_a_valid_email_role_and_long_password(sessions, staff_user):
    with sessions() as session, session.begin():
        with pytest.raises(InvalidInput) as caught:
            staff.create_user(
                session=session,
                email="nope",
                name="X",
                role="wizard",
                password="short",
                actor=ACTOR,
            )
        assert {e.field for e in caught.value.errors} == {"email", "role", "password"}
        with pytest.raises(Conflict):
            staff.create_user(
                session=session,
                email="ada@example.com",
                name="Again",
                role="agent",
                password="x" * 20,
                actor=ACTOR,
            )


def test_tokens_are_hashed_scoped_expiring_and_revocable(sessions):
    with sessions() as session, session.begin():
        new = staff.create_token(
            session=session, name="shop", scopes=["customers:read"], actor=ACTOR
        )
        with pytest.raises(InvalidInput, match="unknown scope"):
            staff.create_token(session=session, name="x", scopes=["everything"], actor=ACTOR)
    with sessions() as session:
        row = session.scalars(select(ApiToken)).one()
        assert new.plaintext not in (row.token_hash, row.prefix)
        assert row.token_hash == staff.hash_secret(new.plaintext)
    with sessions() as session, session.begin():
        assert staff.resolve_token(session=session, plaintext=new.plaintext).name == "shop"
        session.get(ApiToken, row.id).expires_at = utcnow() - timedelta(seconds=1)
    with sessions() as session, session.begin(), pytest.raises(Unauthenticated, match="expired"):
        staff.resolve_token(session=session, plaintext=new.plaintext)
    with sessions() as session, session.begin():
        session.get(ApiToken, row.id).expires_at = None
        staff.revoke_token(session=session, token_id=row.id, actor=ACTOR)
    with sessions() as session, session.begin(), pytest.raises(Unauthenticated, match="revoked"):
        staff.resolve_token(session=session, plaintext=new.plaintext)
    with sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["token.create", "token.revoke"]
