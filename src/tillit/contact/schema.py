"""The columnar form of :class:`ContactState`: one row per customer, one Arrow schema.

Column                      Arrow type                              Meaning
customer_id                 string, not null                        the customer
time_zone                   string or dictionary<string>, not null  IANA zone, e.g. Europe/Oslo
erased, suppressed          bool, not null
objected_to_marketing       bool, not null                          GDPR 21 objection
dialogues_off               bool, optional (absent or null = false)  questions turned off
granted_purposes            list<string>, not null                  consent granted
refused_purposes            list<string>, not null                  consent denied or withdrawn
allowed_channels            uint8, not null     bit ``channel.code`` set: customer allows it
reachable_channels          uint8, not null     bit ``channel.code`` set: a valid address
opted_out_topics            list<string>, not null
chosen_topics               list<string>, null = never chose (every topic is fine)
pause_until                 timestamp[us, UTC], null = not paused
quiet_start_minute          int16, null = no quiet hours            local minute of the day
quiet_end_minute            int16, null = no quiet hours            (both null or both set)
cap_<scope>_<period>        int32, null = no cap   scope: a channel or ``all``;
                                                   period: day | week | month (rolling)
capped_sends                list<struct<at: timestamp[us, UTC], channel: uint8>>, not null;
                            marketing and dialogue sends only, ascending by ``at`` per row

Channel codes (bit numbers and ``channel`` values) follow the order of
:class:`tillit.vocabulary.OutboundChannel`: email=0, sms=1, push=2, phone=3, post=4, social=5,
in_app=6.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from tillit.contact import clock
from tillit.contact.models import ConsentStatus, ContactState
from tillit.vocabulary import OutboundChannel, Period

UTC_US = pa.timestamp("us", tz="UTC")
SEND_TYPE = pa.struct([("at", UTC_US), ("channel", pa.uint8())])
CAP_SCOPES: tuple[str, ...] = (*(c.value for c in OutboundChannel), "all")


def cap_column(channel: OutboundChannel | None, period: Period) -> str:
    scope = "all" if channel is None else channel.value
    return f"cap_{scope}_{period.value}"


_CAP_FIELDS = [
    pa.field(f"cap_{scope}_{period.value}", pa.int32()) for scope in CAP_SCOPES for period in Period
]

STATE_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("time_zone", pa.string(), nullable=False),
        pa.field("erased", pa.bool_(), nullable=False),
        pa.field("suppressed", pa.bool_(), nullable=False),
        pa.field("objected_to_marketing", pa.bool_(), nullable=False),
        pa.field("dialogues_off", pa.bool_()),
        pa.field("granted_purposes", pa.list_(pa.string()), nullable=False),
        pa.field("refused_purposes", pa.list_(pa.string()), nullable=False),
        pa.field("allowed_channels", pa.uint8(), nullable=False),
        pa.field("reachable_channels", pa.uint8(), nullable=False),
        pa.field("opted_out_topics", pa.list_(pa.string()), nullable=False),
        pa.field("chosen_topics", pa.list_(pa.string())),
        pa.field("pause_until", UTC_US),
        pa.field("quiet_start_minute", pa.int16()),
        pa.field("quiet_end_minute", pa.int16()),
        *_CAP_FIELDS,
        pa.field("capped_sends", pa.list_(SEND_TYPE), nullable=False),
    ]
)


def channel_mask(channels: Iterable[OutboundChannel]) -> int:
    return sum(1 << channel.code for channel in set(channels))


def _row(state: ContactState) -> dict[str, object]:
    refused = (ConsentStatus.DENIED, ConsentStatus.WITHDRAWN)
    quiet = state.quiet_hours
    caps = {cap_column(cap.channel, cap.period): cap.limit for cap in state.caps}
    sends = sorted(state.capped_sends, key=lambda send: clock.to_us(send.at))
    row: dict[str, object] = {
        "customer_id": state.customer_id,
        "time_zone": state.time_zone,
        "erased": state.erased,
        "suppressed": state.suppressed,
        "objected_to_marketing": state.objected_to_marketing,
        "dialogues_off": state.dialogues_off,
        "granted_purposes": sorted(
            p for p, s in state.consents.items() if s is ConsentStatus.GRANTED
        ),
        "refused_purposes": sorted(p for p, s in state.consents.items() if s in refused),
        "allowed_channels": channel_mask(state.allowed_channels),
        "reachable_channels": channel_mask(state.reachable_channels),
        "opted_out_topics": sorted(state.opted_out_topics),
        "chosen_topics": None if state.chosen_topics is None else sorted(state.chosen_topics),
        "pause_until": state.pause_until,
        "quiet_start_minute": None if quiet is None else quiet.start_minute,
        "quiet_end_minute": None if quiet is None else quiet.end_minute,
        "capped_sends": [{"at": s.at, "channel": s.channel.code} for s in sends],
    }
    for cap_field in _CAP_FIELDS:
        row[cap_field.name] = caps.get(cap_field.name)
    return row


def states_to_table(states: Iterable[ContactState]) -> pa.Table:
    """Build the batch table from dataclasses (tests, small batches, the explain page)."""
    return pa.Table.from_pylist([_row(state) for state in states], schema=STATE_SCHEMA)
