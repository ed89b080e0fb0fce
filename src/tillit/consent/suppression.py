"""The suppression list: keyed hashes of contact points that must never be contacted again."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.consent.models import Suppression


def contact_point_hash(identity_type: str, value: str, secret_key: str) -> str:
    """HMAC, not a plain hash: e-mail addresses are guessable, so an unkeyed hash would not
    protect them from anyone holding a list of addresses."""
    message = f"{identity_type}:{value}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def suppress(
    *, session: Session, identity_type: str, value: str, secret_key: str, reason: str
) -> bool:
    """Add a contact point; returns False when it was already there."""
    value_hash = contact_point_hash(identity_type, value, secret_key)
    exists = session.scalar(
        select(Suppression.id).where(
            Suppression.identity_type == identity_type, Suppression.value_hash == value_hash
        )
    )
    if exists is not None:
        return False
    session.add(Suppression(identity_type=identity_type, value_hash=value_hash, reason=reason))
    return True
