"""Widget tokens: the company's own site embeds ``data-token`` for a signed-in customer.

``<customer id>.<MAC>``: the company's server gets it from ``tillit dialogues widget-token`` or
computes it with the shared secret; it only lets the widget ask for that customer's next
question, under the same fatigue rules as every other channel.
"""

from __future__ import annotations

import hashlib
import hmac

from tillit.errors import NotFound


def _mac(secret_key: str, customer_id: int) -> str:
    return hmac.new(
        secret_key.encode(), f"widget:{customer_id}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def widget_token(customer_id: int, secret_key: str) -> str:
    return f"{customer_id}.{_mac(secret_key, customer_id)}"


def resolve_widget_token(token: str, secret_key: str) -> int:
    customer, _, mac = token.partition(".")
    if not customer.isdigit() or not hmac.compare_digest(mac, _mac(secret_key, int(customer))):
        raise NotFound("this widget token is not valid")
    return int(customer)
