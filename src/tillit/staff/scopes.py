"""API token scopes. Each area adds its own as it grows; ``admin`` implies every scope."""

CUSTOMERS_READ = "customers:read"
CUSTOMERS_WRITE = "customers:write"
CONSENT_READ, CONSENT_WRITE = "consent:read", "consent:write"
CONTACT_DECIDE, CONTACT_SEND = "contact:decide", "contact:send"
INSIGHT_READ, INSIGHT_WRITE = "insight:read", "insight:write"
DIALOGUES = "dialogues"  # next question for a customer, submit answers (apps, kiosks)
EVENTS_IMPORT = "events:import"  # send files of events to import, follow their progress
ADMIN = "admin"

ALL_SCOPES = (
    CUSTOMERS_READ,
    CUSTOMERS_WRITE,
    CONSENT_READ,
    CONSENT_WRITE,
    CONTACT_DECIDE,
    CONTACT_SEND,
    INSIGHT_READ,
    INSIGHT_WRITE,
    DIALOGUES,
    EVENTS_IMPORT,
    ADMIN,
)


def allows(granted: list[str], needed: str) -> bool:
    return ADMIN in granted or needed in granted
