"""What each staff role may read and do: the one definition every page checks against.

Each staff page declares the permission it needs (``tillit.web.pages.staff_auth.allow``), and
the README's "Staff roles" table shows ``GRANTS``; a test keeps the two and every route in step.
API tokens do not have roles: they carry scopes (``tillit.staff.scopes``).
"""

from __future__ import annotations

from enum import StrEnum

from tillit.staff.models import Role


class Permission(StrEnum):
    """Named after what it allows; ``read`` permissions change nothing."""

    overview_read = "overview:read"
    customers_read = "customers:read"
    customers_edit = "customers:edit"
    matches_read = "matches:read"
    matches_decide = "matches:decide"
    cases_read = "cases:read"
    cases_work = "cases:work"
    dialogues_read = "dialogues:read"
    questions_manage = "questions:manage"
    insight_read = "insight:read"
    themes_manage = "themes:manage"
    quality_read = "quality:read"
    imports_read = "imports:read"
    events_import = "events:import"
    consent_read = "consent:read"
    notices_manage = "notices:manage"
    data_requests_handle = "data-requests:handle"
    experiments_read = "experiments:read"
    experiments_draft = "experiments:draft"
    experiments_run = "experiments:run"
    segments_read = "segments:read"
    segments_manage = "segments:manage"
    analytics_read = "analytics:read"
    campaigns_read = "campaigns:read"
    campaigns_draft = "campaigns:draft"
    campaigns_approve = "campaigns:approve"
    promises_read = "promises:read"


# What a person with the permission may do, in words (the README table's second column).
MEANING: dict[Permission, str] = {
    Permission.overview_read: (
        "see the staff home's figures (consent, reach, messages, NPS, cases, requests) "
        "and measure them again"
    ),
    Permission.customers_read: "see the customer list, a profile with its audit log, a timeline",
    Permission.customers_edit: (
        "change a profile's name, locale and time zone; add identities; "
        "open their preference centre for them, or e-mail them its link"
    ),
    Permission.matches_read: "see the match review queue and recent automatic merges",
    Permission.matches_decide: (
        "accept or reject a probable same-person pair; undo a merge; run matching"
    ),
    Permission.cases_read: "see the case inbox and a case with its notes",
    Permission.cases_work: "assign a case, add a note, reply to the customer, resolve",
    Permission.dialogues_read: "see the questions, the response explorer and the metrics (CSV)",
    Permission.questions_manage: "create and edit dialogue questions",
    Permission.insight_read: "see the themes explorer",
    Permission.themes_manage: "rename, merge and split themes",
    Permission.quality_read: "see data quality per source and field, and measure it again",
    Permission.imports_read: "see event imports and download their rejected lines",
    Permission.events_import: "send a file of events to import; make a source and its write key",
    Permission.consent_read: "see purposes, notices, grant rates and a customer's consent history",
    Permission.notices_manage: "publish a new notice version",
    Permission.data_requests_handle: "see the data-request queue and mark a request done",
    Permission.experiments_read: "see experiments, their status and who has been exposed",
    Permission.experiments_draft: "draft an experiment (hypothesis, variants, goals, guardrails)",
    Permission.experiments_run: "start and stop an experiment",
    Permission.segments_read: (
        "see the segments: members, purpose, those left out for lack of consent, freshness"
    ),
    Permission.segments_manage: (
        "define a segment with the segment builder; save a funnel's drop-outs as a segment"
    ),
    Permission.analytics_read: "see goals, funnels and cohorts with their charts (CSV)",
    Permission.campaigns_read: (
        "see campaigns: previews, the funnel with hold-back reasons, relevance against the blast"
    ),
    Permission.campaigns_draft: "draft a campaign (content, audience, relevance, schedule)",
    Permission.campaigns_approve: "approve a campaign and plan its messages",
    Permission.promises_read: (
        "see the company's promises against what was measured, and each broken instance"
    ),
}

_P = Permission
# Admins hold every permission. Analysts read (and curate the themes they analyse, and draft the
# experiments they will analyse) but change no customer data; only admins start and stop
# experiments, which change what customers are shown; agents work customers and cases;
# privacy officers own consent and requests.
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.analyst: frozenset(
        {
            _P.overview_read,
            _P.customers_read,
            _P.matches_read,
            _P.cases_read,
            _P.dialogues_read,
            _P.insight_read,
            _P.themes_manage,
            _P.quality_read,
            _P.imports_read,
            _P.consent_read,
            _P.experiments_read,
            _P.experiments_draft,
            _P.segments_read,
            _P.segments_manage,
            _P.analytics_read,
            _P.campaigns_read,
            _P.campaigns_draft,
            _P.promises_read,
        }
    ),
    Role.agent: frozenset(
        {
            _P.overview_read,
            _P.customers_read,
            _P.customers_edit,
            _P.matches_read,
            _P.matches_decide,
            _P.cases_read,
            _P.cases_work,
            _P.promises_read,
        }
    ),
    Role.privacy_officer: frozenset(
        {
            _P.overview_read,
            _P.customers_read,
            _P.quality_read,
            _P.consent_read,
            _P.notices_manage,
            _P.data_requests_handle,
            _P.promises_read,
        }
    ),
}


def allowed(role: Role | str, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission``; an unknown role holds nothing."""
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False
