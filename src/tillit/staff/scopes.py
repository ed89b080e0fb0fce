"""API token scopes. Each area adds its own as it grows; ``admin`` implies every scope."""

CUSTOMERS_READ = "customers:read"
CUSTOMERS_WRITE = "customers:write"
CONSENT_READ, CONSENT_WRITE = "consent:read", "consent:write"
CONTACT_DECIDE, CONTACT_SEND = "contact:decide", "contact:send"
INSIGHT_READ, INSIGHT_WRITE = "insight:read", "insight:write"
SEGMENTS_READ, SEGMENTS_WRITE = "segments:read", "segments:write"
ANALYTICS_READ = "analytics:read"  # goals, funnels and cohorts
# The company's promises: read them with what was measured; define and change them.
PROMISES_READ, PROMISES_WRITE = "promises:read", "promises:write"
DIALOGUES = "dialogues"  # next question for a customer, submit answers (apps, kiosks)
MATCHES_READ = "matches:read"  # match suggestions with their evidence
MATCHES_DECIDE = "matches:decide"  # accept (merge) or reject match suggestions
EVENTS_IMPORT = "events:import"  # send files of events to import, follow their progress
# Experiments: read them, draft new ones, start and stop them, and serve variants (web, apps).
EXPERIMENTS_READ, EXPERIMENTS_DRAFT = "experiments:read", "experiments:draft"
EXPERIMENTS_RUN, EXPERIMENTS_ASSIGN = "experiments:run", "experiments:assign"
# Campaigns: read them with their funnel, draft them, approve and plan them.
CAMPAIGNS_READ, CAMPAIGNS_DRAFT = "campaigns:read", "campaigns:draft"
CAMPAIGNS_APPROVE = "campaigns:approve"
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
    SEGMENTS_READ,
    SEGMENTS_WRITE,
    ANALYTICS_READ,
    PROMISES_READ,
    PROMISES_WRITE,
    DIALOGUES,
    EVENTS_IMPORT,
    MATCHES_READ,
    MATCHES_DECIDE,
    EXPERIMENTS_READ,
    EXPERIMENTS_DRAFT,
    EXPERIMENTS_RUN,
    EXPERIMENTS_ASSIGN,
    CAMPAIGNS_READ,
    CAMPAIGNS_DRAFT,
    CAMPAIGNS_APPROVE,
    ADMIN,
)


def allows(granted: list[str], needed: str) -> bool:
    return ADMIN in granted or needed in granted
