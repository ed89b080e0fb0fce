"""One-click unsubscribe (RFC 8058): opaque tokens naming a customer and a list.

A list ("scope") is ``topic:<key>`` (stop that topic) or ``purpose:<key>`` (withdraw that
consent, e.g. ``purpose:marketing``). The token is ``<row id>.<MAC>``: it reveals neither the
customer nor the list, is the same every time (senders can put it in every message), and
needs no login, cookie or expiry, as RFC 8058 requires.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import current_consents, record_consent
from tillit.consent.models import ConsentDecision, Method, Topic, UnsubscribeList
from tillit.consent.notices import current_notice, get_purpose, topic_name
from tillit.consent.preferences import current_preferences, update_preferences
from tillit.errors import FieldError, InvalidInput, NotFound
from tillit.storage.upsert import upsert


def _mac(secret_key: str, list_id: int) -> str:
    return hmac.new(
        secret_key.encode(), f"unsubscribe:{list_id}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def unsubscribe_token(*, session: Session, customer_id: int, scope: str, secret_key: str) -> str:
    _check_scope(session, scope)
    entry = session.scalar(
        select(UnsubscribeList).where(
            UnsubscribeList.customer_id == customer_id, UnsubscribeList.scope == scope
        )
    )
    if entry is None:
        entry = UnsubscribeList(customer_id=customer_id, scope=scope)
        session.add(entry)
        session.flush()
    return f"{entry.id}.{_mac(secret_key, entry.id)}"


def unsubscribe_tokens(
    *, session: Session, wanted: Iterable[tuple[int, str]], secret_key: str
) -> dict[tuple[int, str], str]:
    """:func:`unsubscribe_token` for many (customer, scope) pairs in two statements, for a
    sender's batch. A scope not in the catalogue is left out of the answer."""
    pairs = list(dict.fromkeys(wanted))
    valid = set()
    for scope in {scope for _, scope in pairs}:
        try:
            _check_scope(session, scope)
        except InvalidInput:
            continue
        valid.add(scope)
    pairs = [pair for pair in pairs if pair[1] in valid]
    if not pairs:
        return {}
    table: Table = UnsubscribeList.__table__  # type: ignore[assignment]
    session.execute(  # the rows another sender has not made already
        upsert(session, table).on_conflict_do_nothing(index_elements=["customer_id", "scope"]),
        [{"customer_id": customer, "scope": scope} for customer, scope in pairs],
    )
    rows = session.execute(
        select(UnsubscribeList.id, UnsubscribeList.customer_id, UnsubscribeList.scope).where(
            tuple_(UnsubscribeList.customer_id, UnsubscribeList.scope).in_(pairs)
        )
    )
    return {(customer, scope): f"{id_}.{_mac(secret_key, id_)}" for id_, customer, scope in rows}


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/u/{token}"


def resolve_unsubscribe(*, session: Session, token: str, secret_key: str) -> UnsubscribeList:
    list_id, _, mac = token.partition(".")
    if not list_id.isdigit() or not hmac.compare_digest(mac, _mac(secret_key, int(list_id))):
        raise NotFound("this unsubscribe link is not valid")
    entry = session.get(UnsubscribeList, int(list_id))
    if entry is None:
        raise NotFound("this unsubscribe link is not valid")
    return entry


def apply_unsubscribe(
    *,
    session: Session,
    entry: UnsubscribeList,
    evidence: Evidence,
    actor: Actor,
    at: datetime | None = None,
) -> bool:
    """Carry out the unsubscribe. Returns False when it was already in effect (idempotent)."""
    kind, _, key = entry.scope.partition(":")
    if kind == "topic":
        preferences = current_preferences(session=session, customer_id=entry.customer_id)
        subscribed = preferences.topics
        if subscribed is None:
            subscribed = list(session.scalars(select(Topic.key).where(Topic.active.is_(True))))
        if key not in subscribed:
            return False
        remaining = [topic for topic in subscribed if topic != key]
        update_preferences(
            session=session,
            customer_id=entry.customer_id,
            changes={"topics": remaining},
            method=Method.unsubscribe,
            actor=actor,
            now=at,
        )
        return True
    latest = current_consents(session=session, customer_id=entry.customer_id).get(key)
    if latest is not None and latest.decision in (
        ConsentDecision.withdrawn,
        ConsentDecision.objected,
    ):
        return False
    record_consent(
        session=session,
        customer_id=entry.customer_id,
        purpose_key=key,
        decision=ConsentDecision.withdrawn,
        method=Method.unsubscribe,
        actor=actor,
        channel="email",
        evidence=evidence,
        at=at,
    )
    return True


def _check_scope(session: Session, scope: str) -> None:
    kind, _, key = scope.partition(":")
    if kind == "purpose":
        get_purpose(session=session, key=key)
        return
    if kind == "topic" and session.scalar(select(Topic.id).where(Topic.key == key)) is not None:
        return
    raise InvalidInput(FieldError("scope", "use topic:<key> or purpose:<key> from the catalogue"))


def list_name(*, session: Session, entry: UnsubscribeList, language: str) -> str:
    """What the customer is unsubscribing from, in their words: a topic's name or the title
    of the purpose's notice, never the scope code."""
    kind, _, key = entry.scope.partition(":")
    if kind == "topic":
        topic = session.scalar(select(Topic).where(Topic.key == key))
        return topic_name(topic, language) if topic else key
    notice = current_notice(
        session=session, purpose=get_purpose(session=session, key=key), language=language
    )
    return notice.title if notice else key
