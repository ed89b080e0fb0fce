"""Each rule of the contact policy on its own, and the order in which they decide."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from contact_helpers import NOW, POLICY, intent, reachable_state

from tillit.contact import (
    CHECK_ORDER,
    DIALOGUE_PURPOSE,
    MESSAGES_EN,
    REASON_CODES,
    CappedSend,
    CheckStatus,
    CompanyCap,
    CompanyPolicy,
    ConsentStatus,
    FrequencyCap,
    Intent,
    Outcome,
    QuietHours,
    decide,
    explain,
    explain_ids,
)
from tillit.vocabulary import MessageKind, OutboundChannel, Period


def outcome_of(state=None, message=None, policy=POLICY):  # type: ignore[no-untyped-def]
    decision = decide(state=state or reachable_state(), intent=message or intent(), policy=policy)
    return decision.outcome, decision.reason, decision.defer_until


def test_a_willing_reachable_customer_is_allowed() -> None:
    assert outcome_of() == (Outcome.ALLOWED, None, None)


def test_erasure_comes_before_everything_else() -> None:
    state = reachable_state(erased=True, suppressed=True, consents={}, allowed_channels=frozenset())
    assert outcome_of(state) == (Outcome.DENIED, "erased", None)


def test_suppressed_is_denied_before_consent() -> None:
    state = reachable_state(suppressed=True, consents={})
    assert outcome_of(state) == (Outcome.DENIED, "suppressed", None)


@pytest.mark.parametrize("kind", [MessageKind.transactional, MessageKind.service])
def test_erasure_applies_to_every_kind(kind: MessageKind) -> None:
    message = intent(kind=kind, purpose="orders")
    assert outcome_of(reachable_state(erased=True), message)[1] == "erased"


@pytest.mark.parametrize("consent", [None, ConsentStatus.DENIED, ConsentStatus.WITHDRAWN])
def test_consent_purpose_needs_granted_consent(consent: ConsentStatus | None) -> None:
    consents = {} if consent is None else {"newsletter": consent}
    assert outcome_of(reachable_state(consents=consents))[:2] == (
        Outcome.DENIED,
        "no_consent",
    )


def test_no_consent_is_decided_before_channel() -> None:
    state = reachable_state(consents={}, reachable_channels=frozenset())
    assert outcome_of(state)[1] == "no_consent"


def test_objection_to_marketing_is_absolute_even_with_consent_or_contract() -> None:
    state = reachable_state(objected_to_marketing=True)
    assert outcome_of(state)[1] == "objected"
    assert outcome_of(state, intent(purpose="orders"))[1] == "objected"


def test_objection_to_marketing_does_not_cover_dialogues() -> None:
    state = reachable_state(objected_to_marketing=True)
    message = intent(kind=MessageKind.dialogue, purpose=DIALOGUE_PURPOSE)
    assert outcome_of(state, message)[0] is Outcome.ALLOWED


def test_legitimate_interest_stops_at_an_objection_to_the_purpose() -> None:
    message = intent(purpose="offers")
    assert outcome_of(reachable_state(consents={}), message)[0] is Outcome.ALLOWED
    refused = reachable_state(consents={"offers": ConsentStatus.WITHDRAWN})
    assert outcome_of(refused, message)[:2] == (Outcome.DENIED, "objected")


def test_a_purpose_without_legal_basis_is_denied() -> None:
    assert outcome_of(message=intent(purpose="unregistered"))[1] == "no_legal_basis"


@pytest.mark.parametrize("kind", [MessageKind.transactional, MessageKind.service])
def test_transactional_skips_consent_but_not_channel_validity(kind: MessageKind) -> None:
    message = intent(kind=kind, purpose="orders")
    no_consent = reachable_state(consents={}, objected_to_marketing=True)
    assert outcome_of(no_consent, message)[0] is Outcome.ALLOWED
    unreachable = reachable_state(consents={}, reachable_channels=frozenset())
    assert outcome_of(unreachable, message)[:2] == (
        Outcome.DENIED,
        "channel_unreachable",
    )
    blocked = reachable_state(consents={}, allowed_channels=frozenset({OutboundChannel.sms}))
    assert outcome_of(blocked, message)[:2] == (Outcome.DENIED, "channel_blocked")


def test_blocked_channel_is_reported_before_unreachable() -> None:
    state = reachable_state(allowed_channels=frozenset(), reachable_channels=frozenset())
    assert outcome_of(state)[1] == "channel_blocked"


def test_topic_opt_out_and_explicit_choice() -> None:
    assert outcome_of(reachable_state(opted_out_topics=frozenset({"news"})))[1] == "topic_opt_out"
    chose_other = reachable_state(chosen_topics=frozenset({"recipes"}))
    assert outcome_of(chose_other)[1] == "topic_not_chosen"
    chose_news = reachable_state(chosen_topics=frozenset({"recipes", "news"}))
    assert outcome_of(chose_news)[0] is Outcome.ALLOWED
    message = intent(kind=MessageKind.transactional, purpose="orders")
    assert outcome_of(chose_other, message)[0] is Outcome.ALLOWED


def test_pause_defers_until_it_ends_and_ends_exactly_on_time() -> None:
    later = NOW + timedelta(days=3)
    assert outcome_of(reachable_state(pause_until=later)) == (
        Outcome.DEFERRED,
        "paused",
        later,
    )
    assert outcome_of(reachable_state(pause_until=NOW))[0] is Outcome.ALLOWED
    receipt = intent(kind=MessageKind.transactional, purpose="orders")
    assert outcome_of(reachable_state(pause_until=later), receipt)[0] is Outcome.ALLOWED


def test_pause_is_decided_before_quiet_hours() -> None:
    state = reachable_state(
        pause_until=NOW + timedelta(days=1),
        quiet_hours=QuietHours(time(0), time(23, 59)),
    )
    assert outcome_of(state)[1] == "paused"


NIGHT = QuietHours(time(21), time(8))


def test_quiet_hours_span_midnight_in_the_customers_zone() -> None:
    evening = datetime(2025, 6, 4, 20, 0, tzinfo=UTC)  # 22:00 in Copenhagen (CEST)
    expected_end = datetime(2025, 6, 5, 6, 0, tzinfo=UTC)  # 08:00 CEST
    state = reachable_state(quiet_hours=NIGHT)
    assert outcome_of(state, intent(at=evening)) == (
        Outcome.DEFERRED,
        "quiet_hours",
        expected_end,
    )
    early = datetime(2025, 6, 5, 3, 0, tzinfo=UTC)  # 05:00 CEST, after midnight
    assert outcome_of(state, intent(at=early))[2] == expected_end
    half_past = intent(at=datetime(2025, 6, 4, 19, 30, tzinfo=UTC))
    assert outcome_of(state, half_past)[0] is Outcome.DEFERRED  # 21:30 in Copenhagen
    london = reachable_state(quiet_hours=NIGHT, time_zone="Europe/London")
    assert outcome_of(london, half_past)[0] is Outcome.ALLOWED  # 20:30 in London


def test_quiet_hour_boundaries_start_inclusive_end_exclusive() -> None:
    state = reachable_state(quiet_hours=NIGHT)
    at_start = datetime(2025, 6, 4, 19, 0, tzinfo=UTC)  # 21:00 CEST
    assert outcome_of(state, intent(at=at_start))[0] is Outcome.DEFERRED
    before = at_start - timedelta(microseconds=1)
    assert outcome_of(state, intent(at=before))[0] is Outcome.ALLOWED
    at_end = datetime(2025, 6, 5, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert outcome_of(state, intent(at=at_end))[0] is Outcome.ALLOWED


def test_daytime_quiet_hours_do_not_wrap() -> None:
    state = reachable_state(quiet_hours=QuietHours(time(12), time(13)))
    lunch = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)  # 12:30 CEST
    assert outcome_of(state, intent(at=lunch))[2] == datetime(2025, 6, 4, 11, 0, tzinfo=UTC)
    assert outcome_of(state, intent(at=lunch + timedelta(hours=2)))[0] is Outcome.ALLOWED


def test_service_skips_quiet_hours_but_transactional_waits() -> None:
    state = reachable_state(quiet_hours=NIGHT)
    evening = datetime(2025, 6, 4, 20, 0, tzinfo=UTC)
    reset = intent(kind=MessageKind.service, purpose="orders", at=evening)
    assert outcome_of(state, reset)[0] is Outcome.ALLOWED
    receipt = intent(kind=MessageKind.transactional, purpose="orders", at=evening)
    assert outcome_of(state, receipt)[:2] == (Outcome.DEFERRED, "quiet_hours")


@pytest.mark.parametrize(
    ("at", "window", "expected_end"),
    [
        # Spring forward, 30 March 2025: the night is an hour shorter in UTC.
        ((2025, 3, 29, 22, 0), NIGHT, (2025, 3, 30, 6, 0)),
        # Fall back, 26 October 2025: the night is an hour longer in UTC.
        ((2025, 10, 25, 22, 0), NIGHT, (2025, 10, 26, 7, 0)),
        # The end (02:30) falls in the skipped hour: quiet hours end when the clock jumps.
        ((2025, 3, 30, 0, 30), QuietHours(time(23), time(2, 30)), (2025, 3, 30, 1, 0)),
        # The clock falls back from 03:00 to 02:00, out of 02:30-05:00 for half an hour.
        ((2025, 10, 26, 0, 45), QuietHours(time(2, 30), time(5)), (2025, 10, 26, 1, 0)),
    ],
)
def test_quiet_hours_across_dst_transitions(
    at: tuple[int, ...], window: QuietHours, expected_end: tuple[int, ...]
) -> None:
    message = intent(at=datetime(*at, tzinfo=UTC))
    result = outcome_of(reachable_state(quiet_hours=window), message)
    assert result == (
        Outcome.DEFERRED,
        "quiet_hours",
        datetime(*expected_end, tzinfo=UTC),
    )


def sends(
    *days_ago: float, channel: OutboundChannel = OutboundChannel.email
) -> tuple[CappedSend, ...]:
    return tuple(CappedSend(NOW - timedelta(days=d), channel) for d in days_ago)


def test_customer_cap_defers_until_the_oldest_counted_send_leaves_the_window() -> None:
    state = reachable_state(
        caps=(FrequencyCap(OutboundChannel.email, 2, Period.week),),
        capped_sends=sends(1, 3, 10),
    )
    assert outcome_of(state) == (
        Outcome.DEFERRED,
        "customer_cap",
        NOW + timedelta(days=4),
    )
    one_below = reachable_state(caps=state.caps, capped_sends=sends(1, 10))
    assert outcome_of(one_below)[0] is Outcome.ALLOWED


def test_a_send_exactly_one_period_ago_no_longer_counts() -> None:
    cap = (FrequencyCap(None, 1, Period.day),)
    assert outcome_of(reachable_state(caps=cap, capped_sends=sends(1)))[0] is Outcome.ALLOWED
    almost = (CappedSend(NOW - timedelta(days=1) + timedelta(microseconds=1), OutboundChannel.sms),)
    result = outcome_of(reachable_state(caps=cap, capped_sends=almost))
    assert result == (Outcome.DEFERRED, "customer_cap", NOW + timedelta(microseconds=1))


def test_overall_cap_counts_every_channel_and_channel_cap_only_its_own() -> None:
    sms = sends(0.5, 0.25, channel=OutboundChannel.sms)
    overall = reachable_state(caps=(FrequencyCap(None, 2, Period.day),), capped_sends=sms)
    assert outcome_of(overall) == (
        Outcome.DEFERRED,
        "customer_cap",
        NOW + timedelta(days=0.5),
    )
    email_only = reachable_state(
        caps=(FrequencyCap(OutboundChannel.email, 1, Period.day),), capped_sends=sms
    )
    assert outcome_of(email_only)[0] is Outcome.ALLOWED


def test_several_full_caps_defer_until_all_have_room() -> None:
    caps = (
        FrequencyCap(OutboundChannel.email, 1, Period.day),
        FrequencyCap(None, 3, Period.month),
    )
    state = reachable_state(caps=caps, capped_sends=sends(20, 12, 0.5))
    assert outcome_of(state) == (
        Outcome.DEFERRED,
        "customer_cap",
        NOW + timedelta(days=10),
    )


def test_a_zero_cap_denies_and_future_sends_are_ignored() -> None:
    zero = reachable_state(caps=(FrequencyCap(OutboundChannel.email, 0, Period.month),))
    assert outcome_of(zero) == (Outcome.DENIED, "customer_cap", None)
    future = reachable_state(caps=(FrequencyCap(None, 1, Period.day),), capped_sends=sends(-0.5))
    assert outcome_of(future)[0] is Outcome.ALLOWED


def test_company_cap_applies_after_the_customer_cap_and_only_on_its_channel() -> None:
    policy = CompanyPolicy(
        POLICY.purposes, caps=(CompanyCap(OutboundChannel.email, 2, Period.week),)
    )
    state = reachable_state(capped_sends=sends(2, 6))
    assert outcome_of(state, policy=policy) == (
        Outcome.DEFERRED,
        "company_cap",
        NOW + timedelta(days=1),
    )
    assert (
        outcome_of(state, intent(channel=OutboundChannel.sms), policy=policy)[0] is Outcome.ALLOWED
    )
    own = reachable_state(caps=(FrequencyCap(None, 1, Period.week),), capped_sends=sends(2, 6))
    assert outcome_of(own, policy=policy)[1] == "customer_cap"


def test_dialogues_are_capped_like_marketing_and_transactional_is_not() -> None:
    policy = CompanyPolicy(POLICY.purposes, caps=(CompanyCap(None, 1, Period.week),))
    state = reachable_state(capped_sends=sends(2))
    survey = intent(kind=MessageKind.dialogue, purpose=DIALOGUE_PURPOSE)
    assert outcome_of(state, survey, policy)[:2] == (Outcome.DEFERRED, "company_cap")
    receipt = intent(kind=MessageKind.transactional, purpose="orders")
    assert outcome_of(state, receipt, policy)[0] is Outcome.ALLOWED


def test_checks_explain_every_rule_in_order() -> None:
    state = reachable_state(erased=True, consents={}, quiet_hours=NIGHT)
    evening = datetime(2025, 6, 4, 20, 0, tzinfo=UTC)
    decision = decide(state=state, intent=intent(at=evening), policy=POLICY)
    assert tuple(check.name for check in decision.checks) == CHECK_ORDER
    statuses = {check.name: (check.status, check.reason) for check in decision.checks}
    assert statuses["erasure"] == (CheckStatus.DENY, "erased")
    assert statuses["legal_basis"] == (CheckStatus.DENY, "no_consent")
    assert statuses["quiet_hours"] == (CheckStatus.DEFER, "quiet_hours")
    assert statuses["topic"] == (CheckStatus.OK, None)
    receipt = decide(state=state, intent=intent(kind=MessageKind.service), policy=POLICY)
    skipped = [c.name for c in receipt.checks if c.status is CheckStatus.SKIP]
    assert skipped == [
        "legal_basis",
        "topic",
        "pause",
        "quiet_hours",
        "customer_cap",
        "company_cap",
    ]


def test_explanations_exist_for_every_code_and_follow_the_checks() -> None:
    assert all(f"contact.reason.{code}" in MESSAGES_EN for code in REASON_CODES)
    decision = decide(state=reachable_state(consents={}), intent=intent(), policy=POLICY)
    ids = explain_ids(decision)
    assert ids[0] == "contact.outcome.denied"
    assert ids[2] == "contact.reason.no_consent"
    lines = explain(decision)
    assert len(lines) == 1 + len(CHECK_ORDER)
    assert lines[2] == MESSAGES_EN["contact.reason.no_consent"]


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="aware"):
        intent(at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="dialogue"):
        Intent("newsletter", MessageKind.dialogue, OutboundChannel.email, "news", NOW)
    with pytest.raises(ValueError, match="start != end"):
        QuietHours(time(8), time(8))
    with pytest.raises(ValueError, match="one cap"):
        reachable_state(caps=(FrequencyCap(None, 1, Period.day), FrequencyCap(None, 2, Period.day)))


def test_a_message_without_a_topic_skips_the_topic_rule():
    state = reachable_state(
        chosen_topics=frozenset({"news"}), opted_out_topics=frozenset({"offers"})
    )
    assert decide(state=state, intent=intent(topic=""), policy=POLICY).outcome is Outcome.ALLOWED
