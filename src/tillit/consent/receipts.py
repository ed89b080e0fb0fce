"""Consent receipts: one JSON document per ledger record, signed with the workspace key.

Fields follow the Kantara Consent Receipt Specification v1.1, with an ``iso27560`` block naming
the ISO/IEC TS 27560 record fields. The signature is Ed25519 over the canonical JSON (sorted
keys, no spaces, UTF-8) of the receipt without its ``signature`` member. The key pair is
derived from ``TILLIT_SECRET_KEY``, so it survives restarts and needs no key file; rotating the
secret rotates the key (old receipts then verify only against the old public key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tillit.consent.models import ConsentDecision, ConsentRecord, Purpose

KEY_LABEL = b"tillit consent receipt signing key v1"
EVENT_TYPES = {
    ConsentDecision.granted: "given",
    ConsentDecision.withdrawn: "withdrawn",
    ConsentDecision.denied: "refused",
    ConsentDecision.objected: "objected",
}


def signing_key(secret_key: str) -> Ed25519PrivateKey:
    seed = hmac.new(secret_key.encode(), KEY_LABEL, hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(secret_key: str) -> str:
    raw = signing_key(secret_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _b64(raw)


def build_receipt(
    *,
    entry: ConsentRecord,
    purpose: Purpose,
    controller: str,
    base_url: str,
    language: str,
) -> dict[str, Any]:
    timestamp = int(entry.recorded_at.timestamp())
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "EU",
        "consentTimestamp": timestamp,
        "collectionMethod": str(entry.method),
        "consentReceiptID": f"{base_url.rstrip('/')}/receipts/{entry.record_hash}",
        "language": language,
        "piiPrincipalId": f"customer:{entry.customer_id}",
        "piiControllers": [{"piiController": controller, "piiControllerUrl": base_url}],
        "policyUrl": f"{base_url.rstrip('/')}/privacy",
        "services": [
            {
                "service": controller,
                "purposes": [
                    {
                        "purpose": purpose.key,
                        "purposeCategory": [purpose.key],
                        "consentType": "EXPLICIT" if entry.method != "gpc" else "SIGNAL",
                        "piiCategory": ["contact", "behaviour"],
                        "primaryPurpose": False,
                        "termination": "until withdrawn",
                        "thirdPartyDisclosure": purpose.key == "partner_sharing",
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "iso27560": {
            "record_id": entry.record_hash,
            "pii_principal_id": f"customer:{entry.customer_id}",
            "legal_basis": str(purpose.legal_basis),
            "event": {
                "event_type": EVENT_TYPES[ConsentDecision(entry.decision)],
                "event_time": entry.recorded_at.isoformat(),
                "event_state": str(entry.decision),
            },
            "notice": {
                "notice_version": entry.notice_version,
                "shown_text_sha256": entry.shown_text_hash,
            },
            "chain": {"sequence": entry.sequence, "previous_hash": entry.previous_hash},
        },
    }


def sign_receipt(receipt: dict[str, Any], *, secret_key: str) -> dict[str, Any]:
    """The receipt with ``publicKey`` set and a ``signature`` over everything else."""
    public = public_key_text(secret_key)
    unsigned = {**{k: v for k, v in receipt.items() if k != "signature"}, "publicKey": public}
    value = signing_key(secret_key).sign(canonical(unsigned))
    signature = {"alg": "Ed25519", "kid": key_id(public), "value": _b64(value)}
    return {**unsigned, "signature": signature}


def verify_receipt(receipt: dict[str, Any], *, public_key: str) -> bool:
    """True when the signature matches ``public_key`` (the workspace's, not the receipt's own
    ``publicKey``: a forger can put any key in the document)."""
    signature = receipt.get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != "Ed25519":
        return False
    unsigned = {key: value for key, value in receipt.items() if key != "signature"}
    try:
        verifier = Ed25519PublicKey.from_public_bytes(_unb64(public_key))
        verifier.verify(_unb64(str(signature.get("value", ""))), canonical(unsigned))
    except (InvalidSignature, ValueError):
        return False
    return True


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key: str) -> str:
    return hashlib.sha256(public_key.encode()).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
