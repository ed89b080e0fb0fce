"""The link of an ask: a token ``<ask id>.<secret>``, of which only the HMAC is stored, like the
preference-centre links. It answers once (single use); afterwards it shows the customer their
answer and case status."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tillit.consent.links import LinkGone
from tillit.customers.models import Customer, CustomerStatus
from tillit.dialogues.models import Ask


@dataclass(frozen=True)
class IssuedAsk:
    ask: Ask
    token: str

    def url(self, base_url: str) -> str:
        return ask_url(base_url, self.token)


def ask_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/d/{token}"


def _mac(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), f"ask:{token}".encode(), hashlib.sha256).hexdigest()


def issue_token(ask: Ask, secret_key: str) -> str:
    token = f"{ask.id}.{secrets.token_urlsafe(24)}"
    ask.secret_hash = _mac(secret_key, token)
    return token


def resolve_token(*, session: Session, token: str, secret_key: str) -> Ask:
    ask_id, _, rest = token.partition(".")
    ask = session.get(Ask, int(ask_id)) if ask_id.isdigit() and rest else None
    if (
        ask is None
        or ask.secret_hash is None
        or not hmac.compare_digest(ask.secret_hash, _mac(secret_key, token))
    ):
        raise LinkGone("this link is not valid")
    customer = session.get(Customer, ask.customer_id)
    if customer is None or customer.status == CustomerStatus.erased:
        raise LinkGone("this link is not valid")
    return ask
