"""What a consent record keeps as evidence, reduced to what is needed and no more."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

USER_AGENT_LIMIT = 400


@dataclass(frozen=True)
class Evidence:
    """The circumstances of a decision. ``ip`` is the full address; only a prefix is stored."""

    shown_text_hash: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    gpc: bool = False

    @property
    def ip_prefix(self) -> str | None:
        return truncate_ip(self.ip)

    @property
    def short_user_agent(self) -> str | None:
        return self.user_agent[:USER_AGENT_LIMIT] if self.user_agent else None


def truncate_ip(ip: str | None) -> str | None:
    """/24 for IPv4 and /48 for IPv6: enough to place a request, too little to name a home."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def evidence_digest(
    *, shown_text_hash: str | None, ip_prefix: str | None, user_agent: str | None
) -> str:
    joined = "\x1f".join(part or "" for part in (shown_text_hash, ip_prefix, user_agent))
    return hashlib.sha256(joined.encode()).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
