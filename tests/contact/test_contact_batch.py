"""``decide_batch`` must agree with ``decide`` on every row, and refuse malformed tables."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from contact_helpers import NOW, POLICY, intent, reachable_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tillit.contact import (
    DIALOGUE_PURPOSE,
    STATE_SCHEMA,
    CappedSend,
    CompanyCap,
    CompanyPolicy,
    ConsentStatus,
    ContactState,
    FrequencyCap,
    Intent,
    QuietHours,
    decide,
    decide_batch,
    states_to_table,
)
from tillit.vocabulary import LegalBasis, MessageKind, OutboundChannel, Period

ZONES = [
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Amsterdam",
    "Europe/London",
    "UTC",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kathmandu",  # a +05:45 offset
]
PURPOSES = ["newsletter", "offers", "orders", DIALOGUE_PURPOSE, "unregistered"]
TOPICS = ["news", "recipes", "offers"]
# Instants near DST changes in Europe, America and Australia, and an ordinary one.
ANCHORS = [
    datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    datetime(2025, 10, 26, 1, 0, tzinfo=UTC),
    datetime(2025, 3, 9, 7, 0, tzinfo=UTC),
    datetime(2025, 4, 5, 15, 0, tzinfo=UTC),
    NOW,
]
DAY_MINUTES = 24 * 60
EDGE_MINUTES = [0, 60, 120, 150, 180, 21 * 60, 22 * 60, 8 * 60, DAY_MINUTES - 1]
PERIOD_DAYS = {Period.day: 1, Period.week: 7, Period.month: 30}

instants = st.builds(
    lambda anchor, minutes, micros: anchor + timedelta(minutes=minutes, microseconds=micros),
    st.sampled_from(ANCHORS),
    st.integers(-3 * DAY_MINUTES, 3 * DAY_MINUTES),
    st.sampled_from([0, 0, 0, 1, 999_999]),
)
minutes_of_day = st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, DAY_MINUTES - 1))


@st.composite
def quiet_hours(draw: st.DrawFn, at: datetime, zone: str) -> QuietHours | None:
    """Windows that often start or end at the very minute of the decision (a boundary)."""
    local = at.astimezone(ZoneInfo(zone))
    now_minute = st.just(local.hour * 60 + local.minute)
    start = draw(st.one_of(minutes_of_day, now_minute))
    end = draw(st.one_of(minutes_of_day, now_minute))
    if start == end or draw(st.booleans()):
        return None
    return QuietHours(time(start // 60, start % 60), time(end // 60, end % 60))


def offset(at: datetime) -> st.SearchStrategy[datetime]:
    """Instants around ``at``, often exactly a cap period earlier (the window's edge)."""
    edges = [-timedelta(days=d) for d in PERIOD_DAYS.values()] + [timedelta(0)]
    exact = st.sampled_from(edges).map(lambda delta: at + delta)
    near = st.integers(-35 * 24 * 60, 24 * 60).map(lambda m: at + timedelta(minutes=m))
    return st.one_of(exact, near)


def often(chance: float) -> st.SearchStrategy[bool]:
    return st.integers(0, 99).map(lambda x: x < chance * 100)


@st.composite
def states(draw: st.DrawFn, message: Intent) -> ContactState:
    """Mostly customers who pass the early rules, so the later rules are exercised too."""
    at = message.at
    own = frozenset({message.channel})
    channels = st.frozensets(st.sampled_from(OutboundChannel))
    consents = draw(st.dictionaries(st.sampled_from(PURPOSES), st.sampled_from(ConsentStatus)))
    if draw(often(0.8)):
        consents[message.purpose] = ConsentStatus.GRANTED
    scopes = st.tuples(st.sampled_from([None, *OutboundChannel]), st.sampled_from(list(Period)))
    cap_scopes = draw(st.lists(scopes, max_size=4, unique=True))
    zone = draw(st.sampled_from(ZONES))
    pause = draw(st.one_of(st.none(), st.none(), offset(at), st.just(at + timedelta(days=2))))
    return ContactState(
        customer_id=f"c{draw(st.integers(0, 10**6))}",
        time_zone=zone,
        erased=draw(often(0.05)),
        suppressed=draw(often(0.05)),
        consents=consents,
        objected_to_marketing=draw(often(0.1)),
        allowed_channels=draw(channels) | (own if draw(often(0.9)) else frozenset()),
        reachable_channels=draw(channels) | (own if draw(often(0.9)) else frozenset()),
        opted_out_topics=draw(st.frozensets(st.sampled_from(TOPICS), max_size=1)),
        chosen_topics=draw(st.one_of(st.none(), st.none(), st.frozensets(st.sampled_from(TOPICS)))),
        pause_until=pause,
        quiet_hours=draw(quiet_hours(at, zone)),
        caps=tuple(FrequencyCap(c, draw(st.integers(0, 3)), p) for c, p in cap_scopes),
        capped_sends=tuple(
            CappedSend(draw(offset(at)), draw(st.sampled_from(list(OutboundChannel)[:3])))
            for _ in range(draw(st.integers(0, 8)))
        ),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[ContactState], Intent, CompanyPolicy]:
    at = draw(instants)
    kind = draw(
        st.sampled_from(
            [
                MessageKind.transactional,
                MessageKind.service,
                *[MessageKind.marketing] * 3,
                MessageKind.dialogue,
            ]
        )
    )
    purpose = DIALOGUE_PURPOSE if kind is MessageKind.dialogue else draw(st.sampled_from(PURPOSES))
    message = Intent(
        purpose,
        kind,
        draw(st.sampled_from(list(OutboundChannel)[:3])),
        draw(st.sampled_from([*TOPICS, ""])),  # "" is a message without a topic
        at,
    )
    bases = st.sampled_from(LegalBasis)
    policy = CompanyPolicy(
        purposes={p: draw(bases) for p in PURPOSES[:-1] if draw(often(0.9))},
        caps=tuple(
            CompanyCap(c, draw(st.integers(0, 3)), p)
            for c, p in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([None, *OutboundChannel]),
                        st.sampled_from(list(Period)),
                    ),
                    max_size=3,
                )
            )
        ),
    )
    customers = draw(st.lists(states(message), min_size=1, max_size=12))
    return customers, message, policy


def expected_rows(
    customers: list[ContactState], message: Intent, policy: CompanyPolicy
) -> list[dict[str, object]]:
    rows = []
    for state in customers:
        decision = decide(state=state, intent=message, policy=policy)
        rows.append(
            {
                "customer_id": state.customer_id,
                "outcome": decision.outcome.value,
                "reason": decision.reason,
                "defer_until": decision.defer_until,
            }
        )
    return rows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(min_value=1, max_value=4))
def test_batch_agrees_with_the_reference_on_every_row(
    scenario: tuple[list[ContactState], Intent, CompanyPolicy], threads: int
) -> None:
    customers, message, policy = scenario
    # One row per thread at least, so most examples also run the sliced, threaded path.
    result = decide_batch(
        states=states_to_table(customers),
        intent=message,
        policy=policy,
        threads=threads,
        min_rows_per_thread=1,
    )
    assert result.to_pylist() == expected_rows(customers, message, policy)


def test_batch_accepts_chunked_sliced_and_polars_tables() -> None:
    sends = tuple(
        CappedSend(NOW - timedelta(hours=h), list(OutboundChannel)[h % 2]) for h in range(1, 5)
    )
    caps = (FrequencyCap(None, 2, Period.day),)
    customers = [
        reachable_state(customer_id=f"c{i}", capped_sends=sends[: i % 5], caps=caps)
        for i in range(9)
    ]
    whole = states_to_table(customers)
    chunked = pa.concat_tables([whole.slice(0, 4), whole.slice(4)])
    sliced = whole.slice(2, 5)
    expected = expected_rows(customers, intent(), POLICY)
    assert decide_batch(states=chunked, intent=intent(), policy=POLICY).to_pylist() == expected
    got = decide_batch(states=sliced, intent=intent(), policy=POLICY).to_pylist()
    assert got == expected[2:7]
    polars = pytest.importorskip("polars")
    frame = polars.from_arrow(whole)
    assert decide_batch(states=frame, intent=intent(), policy=POLICY).to_pylist() == expected
    assert {row["outcome"] for row in expected} == {"allowed", "deferred"}


def test_a_large_table_is_decided_on_several_threads_in_input_order() -> None:
    customers = [
        reachable_state(customer_id=f"c{i}", pause_until=NOW + timedelta(days=1) if i % 3 else None)
        for i in range(10)
    ]
    table = states_to_table(customers)
    threaded = decide_batch(
        states=table, intent=intent(), policy=POLICY, threads=3, min_rows_per_thread=2
    )
    assert threaded.column("customer_id").num_chunks == 3
    assert threaded.to_pylist() == expected_rows(customers, intent(), POLICY)
    with pytest.raises(ValueError, match="threads"):
        decide_batch(states=table, intent=intent(), policy=POLICY, threads=0)


def test_dictionary_encoded_time_zones_are_accepted() -> None:
    table = states_to_table([reachable_state(quiet_hours=QuietHours(time(0), time(23)))])
    encoded = table.set_column(1, "time_zone", table.column("time_zone").dictionary_encode())
    result = decide_batch(states=encoded, intent=intent(), policy=POLICY).to_pylist()
    assert result[0]["reason"] == "quiet_hours"


def test_null_lists_that_span_values_hold_nothing() -> None:
    # Arrow lets a null slot cover child values; they must not leak into the next rows.
    customers = [reachable_state(customer_id=f"c{i}") for i in range(3)]
    table = states_to_table(customers)
    topics = pa.array([["news"], ["news"], ["recipes"]], pa.list_(pa.string()))
    masked = pa.ListArray.from_arrays(
        topics.offsets, topics.values, mask=pa.array([True, False, True])
    )
    table = table.set_column(STATE_SCHEMA.get_field_index("chosen_topics"), "chosen_topics", masked)
    result = decide_batch(states=table, intent=intent(), policy=POLICY).to_pylist()
    assert [row["outcome"] for row in result] == ["allowed", "allowed", "allowed"]


def _broken(column: str, values: pa.Array) -> pa.Table:
    table = states_to_table([reachable_state()])
    return table.set_column(STATE_SCHEMA.get_field_index(column), column, values)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (states_to_table([reachable_state()]).drop_columns(["erased"]), "lacks column"),
        (_broken("erased", pa.array([None], pa.bool_())), "nulls"),
        (_broken("time_zone", pa.array(["Europe/Atlantis"])), "unknown time zone"),
        (_broken("quiet_start_minute", pa.array([60], pa.int16())), "null together"),
        (_broken("cap_all_day", pa.array([-2], pa.int32())), "negative"),
        (_broken("allowed_channels", pa.array(["email"])), "should be uint8"),
    ],
)
def test_malformed_tables_are_refused(table: pa.Table, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decide_batch(states=table, intent=intent(), policy=POLICY)


def test_unsorted_send_history_is_refused() -> None:
    sends = [
        {"at": NOW - timedelta(hours=1), "channel": 0},
        {"at": NOW - timedelta(hours=2), "channel": 0},
    ]
    table = _broken("capped_sends", pa.array([sends], STATE_SCHEMA.field("capped_sends").type))
    with pytest.raises(ValueError, match="ascending"):
        decide_batch(states=table, intent=intent(), policy=POLICY)
