"""The contact policy for one customer: the readable reference implementation.

Every rule is evaluated, in the fixed order below, so the customer can see every reason; the
decision is the first rule that denies or defers.

1. erasure      erased, then suppressed                         -> denied
2. legal_basis  objection (marketing), no basis, no consent     -> denied
3. channel      blocked by the customer, then no valid address  -> denied
4. topic        opted out, or not among explicitly chosen ones  -> denied
5. pause        paused until a later instant                    -> deferred until the pause ends
6. quiet_hours  inside local quiet hours                        -> deferred until they end
7. customer_cap own caps per channel and overall                -> deferred until a slot frees
8. company_cap  company-wide caps                               -> deferred likewise

The company's promises (``tillit.promises``) are its company rules: where the company promised
quiet hours, a marketing or dialogue message inside them is held with ``promise:<key>``, and a
company cap that a promise carries holds with ``promise:<key>`` instead of ``company_cap``.

Which rules apply to which kind of message is in :data:`APPLIES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tillit.contact import clock, reasons
from tillit.contact.models import (
    CAPPED_KINDS,
    Check,
    CheckStatus,
    CompanyCap,
    CompanyPolicy,
    ConsentStatus,
    ContactState,
    Decision,
    Intent,
    Outcome,
)
from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel, Period

_ALL = frozenset(MessageKind)
_NOT_SERVICE = frozenset({MessageKind.transactional, MessageKind.marketing, MessageKind.dialogue})

# Transactional and service messages skip consent, topics, pause and caps, never erasure or
# channel validity. Service messages (password resets, one-time codes) are answers to
# something the customer is doing now, so they also skip quiet hours; a shipping notice can
# wait until morning.
APPLIES: dict[str, frozenset[MessageKind]] = {
    reasons.CHECK_ERASURE: _ALL,
    reasons.CHECK_LEGAL_BASIS: CAPPED_KINDS,
    reasons.CHECK_CHANNEL: _ALL,
    reasons.CHECK_TOPIC: CAPPED_KINDS,
    reasons.CHECK_PAUSE: CAPPED_KINDS,
    reasons.CHECK_QUIET_HOURS: _NOT_SERVICE,
    reasons.CHECK_CUSTOMER_CAP: CAPPED_KINDS,
    reasons.CHECK_COMPANY_CAP: CAPPED_KINDS,
}

_Verdict = tuple[CheckStatus, str | None, int | None]  # status, reason code, until (µs)
_OK: _Verdict = (CheckStatus.OK, None, None)


def _deny(code: str) -> _Verdict:
    return (CheckStatus.DENY, code, None)


def _erasure(state: ContactState) -> _Verdict:
    if state.erased:
        return _deny(reasons.ERASED)
    if state.suppressed:
        return _deny(reasons.SUPPRESSED)
    return _OK


def _legal_basis(state: ContactState, intent: Intent, policy: CompanyPolicy) -> _Verdict:
    # GDPR 21(3): an objection to direct marketing is absolute, whatever the basis.
    if intent.kind is MessageKind.marketing and state.objected_to_marketing:
        return _deny(reasons.OBJECTED)
    basis = policy.purposes.get(intent.purpose)
    if basis is None:
        return _deny(reasons.NO_LEGAL_BASIS)
    if intent.kind is MessageKind.dialogue and state.dialogues_off:
        return _deny(reasons.DIALOGUES_OFF)
    consent = state.consents.get(intent.purpose)
    if basis is LegalBasis.consent and consent is not ConsentStatus.GRANTED:
        return _deny(reasons.NO_CONSENT)
    refused = consent in (ConsentStatus.DENIED, ConsentStatus.WITHDRAWN)
    if basis is LegalBasis.legitimate_interest and refused:
        return _deny(reasons.OBJECTED)  # GDPR 21(1): objection to a legitimate interest
    return _OK


def _channel(state: ContactState, intent: Intent) -> _Verdict:
    if intent.channel not in state.allowed_channels:
        return _deny(reasons.CHANNEL_BLOCKED)
    if intent.channel not in state.reachable_channels:
        return _deny(reasons.CHANNEL_UNREACHABLE)
    return _OK


def _topic(state: ContactState, intent: Intent) -> _Verdict:
    if not intent.topic:  # a message about no topic (a survey invitation, say) has none to check
        return _OK
    if intent.topic in state.opted_out_topics:
        return _deny(reasons.TOPIC_OPT_OUT)
    if state.chosen_topics is not None and intent.topic not in state.chosen_topics:
        return _deny(reasons.TOPIC_NOT_CHOSEN)
    return _OK


def _pause(state: ContactState, at_us: int) -> _Verdict:
    if state.pause_until is None:
        return _OK
    until = clock.to_us(state.pause_until)
    return (CheckStatus.DEFER, reasons.PAUSED, until) if until > at_us else _OK


def quiet_hours_code(intent: Intent, policy: CompanyPolicy) -> str:
    """The reason a message inside quiet hours is held with: the company's promise for the
    kinds it promised about (all but transactional), else the customer's own rule."""
    if policy.quiet_hours_promise and intent.kind in CAPPED_KINDS:
        return reasons.promise_reason(policy.quiet_hours_promise)
    return reasons.QUIET_HOURS


def _quiet_hours(state: ContactState, at_us: int, code: str) -> _Verdict:
    window = state.quiet_hours
    if window is None:
        return _OK
    end = clock.quiet_hours_end_us(state.time_zone, at_us, window.start_minute, window.end_minute)
    return _OK if end is None else (CheckStatus.DEFER, code, end)


def cap_frees_at_us(
    sends_us: Iterable[int], *, at_us: int, limit: int, period: Period
) -> int | None:
    """When a rolling cap next allows one more send; ``at_us`` itself if it allows one now.

    A send at ``s`` counts while ``at - period < s <= at``. Returns None when the cap can
    never allow a send (a limit of zero).
    """
    length = clock.duration_us(period.length)
    window = sorted(s for s in sends_us if at_us - length < s <= at_us)
    if len(window) < limit:
        return at_us
    if limit == 0:
        return None
    # Once the oldest len-limit+1 sends have left the window, limit-1 remain.
    return window[len(window) - limit] + length


def _caps(
    caps: Iterable[tuple[OutboundChannel | None, int, Period, str]],
    state: ContactState,
    intent: Intent,
    at_us: int,
) -> _Verdict:
    """Deny where a zero cap is full; else defer until the last full cap frees, with the code
    of the first cap (in order) that is full."""
    latest, held = at_us, None
    for channel, limit, period, code in caps:
        if channel is not None and channel is not intent.channel:
            continue
        sends = (clock.to_us(s.at) for s in state.capped_sends if channel in (None, s.channel))
        frees = cap_frees_at_us(sends, at_us=at_us, limit=limit, period=period)
        if frees is None:
            return _deny(code)
        if frees > at_us and held is None:
            held = code
        latest = max(latest, frees)  # no sends happen meanwhile, so every cap frees by then
    return _OK if held is None else (CheckStatus.DEFER, held, latest)


def company_cap_code(cap: CompanyCap) -> str:
    return reasons.promise_reason(cap.promise) if cap.promise else reasons.COMPANY_CAP


def _evaluate(name: str, state: ContactState, intent: Intent, policy: CompanyPolicy) -> _Verdict:
    at_us = clock.to_us(intent.at)
    if name == reasons.CHECK_ERASURE:
        return _erasure(state)
    if name == reasons.CHECK_LEGAL_BASIS:
        return _legal_basis(state, intent, policy)
    if name == reasons.CHECK_CHANNEL:
        return _channel(state, intent)
    if name == reasons.CHECK_TOPIC:
        return _topic(state, intent)
    if name == reasons.CHECK_PAUSE:
        return _pause(state, at_us)
    if name == reasons.CHECK_QUIET_HOURS:
        return _quiet_hours(state, at_us, quiet_hours_code(intent, policy))
    if name == reasons.CHECK_CUSTOMER_CAP:
        own = ((c.channel, c.limit, c.period, reasons.CUSTOMER_CAP) for c in state.caps)
        return _caps(own, state, intent, at_us)
    company = ((c.channel, c.limit, c.period, company_cap_code(c)) for c in policy.caps)
    return _caps(company, state, intent, at_us)


def _as_datetime(us: int | None) -> datetime | None:
    return None if us is None else clock.from_us(us)


def decide(*, state: ContactState, intent: Intent, policy: CompanyPolicy) -> Decision:
    """Decide one intended message for one customer; see the module docstring for the rules."""
    checks: list[Check] = []
    decisive: Check | None = None
    for name in reasons.CHECK_ORDER:
        if intent.kind not in APPLIES[name]:
            checks.append(Check(name, CheckStatus.SKIP))
            continue
        status, code, until = _evaluate(name, state, intent, policy)
        check = Check(name, status, code, _as_datetime(until))
        checks.append(check)
        if decisive is None and status in (CheckStatus.DENY, CheckStatus.DEFER):
            decisive = check
    if decisive is None:
        return Decision(Outcome.ALLOWED, None, None, tuple(checks))
    outcome = Outcome.DENIED if decisive.status is CheckStatus.DENY else Outcome.DEFERRED
    return Decision(outcome, decisive.reason, decisive.until, tuple(checks))
