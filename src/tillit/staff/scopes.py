"""API token scopes. Each area adds its own as it grows; ``admin`` implies every scope."""

CUSTOMERS_READ = "customers:read"
CUSTOMERS_WRITE = "customers:write"
CONSENT_READ, CONSENT_WRITE = "consent:read", "consent:write"
ADMIN = "admin"

ALL_SCOPES = (CUSTOMERS_READ, CUSTOMERS_WRITE, CONSENT_READ, CONSENT_WRITE, ADMIN)


def allows(granted: list[str], needed: str) -> bool:
    return ADMIN in granted or needed in granted
