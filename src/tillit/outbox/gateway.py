"""Every channel but e-mail through the company's gateway (``TILLIT_GATEWAY_URL``): one HTTP
POST of JSON per message over a kept-alive connection, signed so the gateway can tell it came
from Tillit and was not replayed.

The request (the header names and the body's fields are the contract; docs/outreach.md):

- ``Tillit-Timestamp``: Unix seconds when it was signed;
- ``Tillit-Signature``: ``v1=`` + hex HMAC-SHA256, keyed with ``TILLIT_GATEWAY_SECRET``, of
  ``<timestamp>.`` followed by the exact body bytes;
- ``Idempotency-Key``: the same on every attempt at one message, so the gateway can drop a
  second copy.

The answer: 2xx is sent (a JSON ``id`` in it is kept as the provider's id); 408, 425, 429 and
5xx are tried again; 401 and 403 (the gateway refused Tillit, not the address) stop the batch
and are tried again; any other 4xx is a refusal of that message for good (``bounced``).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from urllib.parse import urlsplit

from tillit.config import Settings
from tillit.outbox.transport import Down, Prepared, Refused, TryAgain

TIMEOUT_SECONDS = 30
RETRY_STATUSES = frozenset({408, 425, 429})
REFUSED_US = frozenset({401, 403})
SIGNATURE_HEADER = "Tillit-Signature"
TIMESTAMP_HEADER = "Tillit-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What ``Tillit-Signature`` holds; a gateway checks it the same way (compare in constant
    time, and refuse a timestamp more than a few minutes old)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def payload(item: Prepared) -> dict[str, object]:
    message = item.message
    return {
        "id": item.message_id,
        "channel": message.channel,
        "kind": message.kind,
        "customer_id": message.customer_id,
        "to": {"type": item.address_type, "value": item.address},
        "language": message.language,
        "subject": message.subject,
        "body": message.body,
        "topic": message.topic,
        "purpose": message.purpose_key,
        "source": message.source,
        "preferences_url": item.why_url,
        "unsubscribe_url": item.unsubscribe_url,
    }


class GatewayTransport:
    def __init__(self, settings: Settings) -> None:
        self.secret = settings.gateway_secret
        url = urlsplit(settings.gateway_url)
        self.https = url.scheme == "https"
        self.host = url.hostname or ""
        self.port = url.port
        self.path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)

    def start(self, item: Prepared) -> None:
        """Nothing to do before the request: one POST is the whole exchange."""

    def finish(self, item: Prepared) -> str:
        body = json.dumps(payload(item), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            "Idempotency-Key": item.message_id,
        }
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.request("POST", self.path, body=body, headers=headers)
            response = self._connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise Down(f"the gateway did not answer: {error}") from error
        status = response.status
        if 200 <= status < 300:
            return _provider_id(answer) or item.message_id
        words = f"the gateway answered {status} {answer[:200].decode('utf-8', 'replace')}".strip()
        if status in REFUSED_US:  # our key or our account, not the customer's address
            self.close()
            raise Down(words)
        if status in RETRY_STATUSES or status >= 500:
            raise TryAgain(words)
        raise Refused(words)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _provider_id(answer: bytes) -> str | None:
    try:
        found = json.loads(answer)
    except ValueError:
        return None
    value = found.get("id") if isinstance(found, dict) else None
    return str(value) if value is not None else None
