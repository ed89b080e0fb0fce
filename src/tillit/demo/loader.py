"""The demo's staff users, with one generated password (the customers come from the
simulation, :mod:`tillit.demo.simulation`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from tillit.audit.service import Actor
from tillit.staff.models import Role, StaffUser
from tillit.staff.service import create_user
from tillit.storage.session import SessionFactory

DEMO_STAFF = (
    ("admin@example.com", "Ada Admin", Role.admin),
    ("analyst@example.com", "Anders Analytiker", Role.analyst),
    ("agent@example.com", "Agnes Agent", Role.agent),
    ("privacy@example.com", "Pia Privacy", Role.privacy_officer),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def ensure_demo_staff(*, sessions: SessionFactory, data_dir: Path) -> DemoLogin:
    """One generated password for every demo user, kept in the data directory (never in git)."""
    password_file = data_dir / "demo-login.txt"
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(12)
        data_dir.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    actor = Actor.system("demo")
    with sessions() as session, session.begin():
        for email, name, role in DEMO_STAFF:
            if session.scalar(select(StaffUser).where(StaffUser.email == email)) is None:
                create_user(
                    session=session,
                    email=email,
                    name=name,
                    role=role,
                    password=password,
                    actor=actor,
                )
    return DemoLogin(email=DEMO_STAFF[0][0], password=password)
