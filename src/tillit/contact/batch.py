"""The contact policy for a whole table of customers at once, vectorised with NumPy.

It gives the same answer as :func:`tillit.contact.policy.decide` for every row (the tests
hold both to that). The rules run in the same order; each yields a row mask with a reason, and
a row's decision is the first rule whose mask holds for it.

Result (:data:`RESULT_SCHEMA`), one row per input row, in input order:

customer_id   string
outcome       dictionary<int8, string>: allowed | deferred | denied
reason        dictionary<int8, string>: a code from REASON_CODES, or promise:<key> for a
              company promise (numbered after them); null when allowed
defer_until   timestamp[us, UTC]; null unless deferred
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tillit.contact import _vector as vec
from tillit.contact import clock, reasons
from tillit.contact.models import CompanyPolicy, Intent, Outcome
from tillit.contact.policy import APPLIES, company_cap_code, quiet_hours_code
from tillit.contact.schema import STATE_SCHEMA, UTC_US, cap_column
from tillit.cores import available_cores
from tillit.vocabulary import LegalBasis, MessageKind, Period

OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in Outcome)
_ALLOWED, _DEFERRED, _DENIED = (OUTCOMES.index(o.value) for o in Outcome)

RESULT_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("outcome", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("reason", pa.dictionary(pa.int8(), pa.string())),
        pa.field("defer_until", UTC_US),
    ]
)


@dataclass(frozen=True)
class _Verdict:
    mask: vec.Bools
    code: str
    until: vec.Ints | None = None  # set for deferrals


@dataclass
class _Batch:
    table: pa.Table
    intent: Intent
    policy: CompanyPolicy
    at_us: int
    open_rows: vec.Bools  # rows no earlier rule has decided; updated in place

    @cached_property
    def capped_rows(self) -> vec.Ints:
        return np.flatnonzero(self.open_rows)  # fixed at the first cap rule, then shared

    @cached_property
    def history(self) -> vec.SendHistory:
        return _send_history(self.table, self.at_us, self.capped_rows)


_Rule = Callable[[_Batch], list[_Verdict]]


def _column(table: pa.Table, name: str) -> Any:
    """One column as a single Arrow array of the schema's type (tables may be chunked)."""
    expected = STATE_SCHEMA.field(name)
    if name not in table.column_names:
        raise ValueError(f"contact state table lacks column {name!r}")
    chunked = table.column(name)
    # combine_chunks copies even a single chunk; a million-row list column costs ~6 ms.
    array = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
    if not expected.nullable and array.null_count:
        raise ValueError(f"column {name!r} must not contain nulls")
    if name == "time_zone" and pa.types.is_dictionary(array.type):
        return array  # kept encoded: zones are looked up once per dictionary entry
    if array.type != expected.type:
        try:
            array = array.cast(expected.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise ValueError(f"column {name!r} should be {expected.type}") from error
    return array


def _erasure(batch: _Batch) -> list[_Verdict]:
    return [
        _Verdict(vec.bools(_column(batch.table, "erased")), reasons.ERASED),
        _Verdict(vec.bools(_column(batch.table, "suppressed")), reasons.SUPPRESSED),
    ]


def _legal_basis(batch: _Batch) -> list[_Verdict]:
    rows = batch.table.num_rows
    verdicts = []
    if batch.intent.kind is MessageKind.marketing:
        objected = vec.bools(_column(batch.table, "objected_to_marketing"))
        verdicts.append(_Verdict(objected, reasons.OBJECTED))
    basis = batch.policy.purposes.get(batch.intent.purpose)
    verdicts.append(_Verdict(np.full(rows, basis is None), reasons.NO_LEGAL_BASIS))
    if batch.intent.kind is MessageKind.dialogue and "dialogues_off" in batch.table.column_names:
        off = vec.bools(_column(batch.table, "dialogues_off"))
        verdicts.append(_Verdict(off, reasons.DIALOGUES_OFF))
    if basis is LegalBasis.consent:
        granted = vec.list_contains(_column(batch.table, "granted_purposes"), batch.intent.purpose)
        verdicts.append(_Verdict(~granted, reasons.NO_CONSENT))
    if basis is LegalBasis.legitimate_interest:
        refused = vec.list_contains(_column(batch.table, "refused_purposes"), batch.intent.purpose)
        verdicts.append(_Verdict(refused, reasons.OBJECTED))
    return verdicts


def _channel(batch: _Batch) -> list[_Verdict]:
    bit = 1 << batch.intent.channel.code
    allowed = vec.ints(_column(batch.table, "allowed_channels"), null=0) & bit
    reachable = vec.ints(_column(batch.table, "reachable_channels"), null=0) & bit
    return [
        _Verdict(allowed == 0, reasons.CHANNEL_BLOCKED),
        _Verdict(reachable == 0, reasons.CHANNEL_UNREACHABLE),
    ]


def _topic(batch: _Batch) -> list[_Verdict]:
    if not batch.intent.topic:  # no topic, nothing to check (as in policy._topic)
        return []
    opted_out = vec.list_contains(_column(batch.table, "opted_out_topics"), batch.intent.topic)
    chosen_column = _column(batch.table, "chosen_topics")
    chose = vec.bools(chosen_column.is_valid())
    not_chosen = chose & ~vec.list_contains(chosen_column, batch.intent.topic)
    return [
        _Verdict(opted_out, reasons.TOPIC_OPT_OUT),
        _Verdict(not_chosen, reasons.TOPIC_NOT_CHOSEN),
    ]


def _pause(batch: _Batch) -> list[_Verdict]:
    until = vec.timestamps_us(_column(batch.table, "pause_until"), null=np.iinfo(np.int64).min)
    return [_Verdict(until > batch.at_us, reasons.PAUSED, until)]


def _time_zones(table: pa.Table) -> tuple[vec.Ints, list[str]]:
    zones = _column(table, "time_zone")
    if not pa.types.is_dictionary(zones.type):
        zones = pc.dictionary_encode(zones)
    names = [str(name) for name in zones.dictionary.to_pylist()]
    for name in names:
        try:
            clock.offset_us(name, 0)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}") from error
    return vec.ints(zones.indices, null=0), names


def _quiet_window(table: pa.Table) -> tuple[vec.Ints, vec.Ints]:
    start = vec.ints(_column(table, "quiet_start_minute"), null=-1)
    end = vec.ints(_column(table, "quiet_end_minute"), null=-1)
    if np.any((start < 0) != (end < 0)):
        raise ValueError("quiet_start_minute and quiet_end_minute must be null together")
    if np.any((start >= 24 * 60) | (end >= 24 * 60) | (start < -1) | (end < -1)):
        raise ValueError("quiet hours are minutes of the day, 0 to 1439")
    if np.any((start >= 0) & (start == end)):
        raise ValueError("quiet hours need start != end; use nulls for no quiet hours")
    return start, end


def _quiet_hours(batch: _Batch) -> list[_Verdict]:
    codes, names = _time_zones(batch.table)
    start, end = _quiet_window(batch.table)
    quiet, until = vec.quiet_hours(codes, names, start, end, batch.at_us)
    return [_Verdict(quiet, quiet_hours_code(batch.intent, batch.policy), until)]


def _send_history(table: pa.Table, at_us: int, rows: vec.Ints) -> vec.SendHistory:
    """The sends of ``rows`` that any cap can still count (within a month before ``at``).

    Rows already decided by an earlier rule are left out: caps are the costliest rule and
    usually only a minority of rows reach them.
    """
    sends = _column(table, "capped_sends")
    at_array, channel_array = vec.list_values(sends).flatten()
    if at_array.null_count or channel_array.null_count:
        raise ValueError("capped_sends elements need both 'at' and 'channel'")
    lengths = np.diff(vec.list_offsets(sends))
    keep = np.zeros(len(lengths), dtype=np.bool_)
    keep[rows] = True
    kept = np.repeat(keep, lengths)
    at = vec.timestamps_us(at_array, null=0)[kept]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths[rows], out=offsets[1:])
    starts = np.zeros(len(at), dtype=np.bool_)
    starts[offsets[:-1][offsets[:-1] < len(at)]] = True
    if np.any((np.diff(at) < 0) & ~starts[1:]):
        raise ValueError("capped_sends must be ascending by 'at' within each row")
    channel = channel_array.to_numpy(zero_copy_only=False)[kept]
    return vec.SendHistory(at=at, channel=channel, offsets=offsets, at_us=at_us)


def _cap_verdicts(batch: _Batch, caps: list[tuple[int, vec.Ints, Period, str]]) -> list[_Verdict]:
    """Deny where any cap is zero and full; else defer until the last full cap frees. Each cap
    has its code: the first cap (in order) that denies, else that defers, names the reason."""
    history, rows = batch.history, batch.capped_rows
    until = np.full(len(rows), history.at_us, dtype=np.int64)
    denials, deferrals = [], []
    for channel_code, limits, period, code in caps:
        length = clock.duration_us(period.length)
        cap_denied, cap_deferred, frees = history.cap(limits[rows], channel_code, length)
        denials.append((cap_denied, code))
        deferrals.append((cap_deferred, code))
        np.maximum(until, frees, out=until)
    verdicts = [_spread(batch, rows, mask, code) for mask, code in _merged(denials)]
    verdicts += [_spread(batch, rows, mask, code, until) for mask, code in _merged(deferrals)]
    return verdicts


def _merged(masks: list[tuple[vec.Bools, str]]) -> list[tuple[vec.Bools, str]]:
    """Masks with the same code joined, in the order each code first comes."""
    joined: dict[str, vec.Bools] = {}
    for mask, code in masks:
        joined[code] = joined[code] | mask if code in joined else mask.copy()
    return list((mask, code) for code, mask in joined.items())


def _spread(
    batch: _Batch,
    rows: vec.Ints,
    mask: vec.Bools,
    code: str,
    until: vec.Ints | None = None,
) -> _Verdict:
    """A verdict computed for some rows, as one for the whole table."""
    full_mask = np.zeros(batch.table.num_rows, dtype=np.bool_)
    full_mask[rows] = mask
    if until is None:
        return _Verdict(full_mask, code)
    full_until = np.zeros(batch.table.num_rows, dtype=np.int64)
    full_until[rows] = until
    return _Verdict(full_mask, code, full_until)


def _customer_cap(batch: _Batch) -> list[_Verdict]:
    caps = []
    for channel, code in (
        (batch.intent.channel, batch.intent.channel.code),
        (None, -1),
    ):
        for period in Period:
            limits = vec.ints(_column(batch.table, cap_column(channel, period)), null=-1)
            if np.any(limits < -1):
                raise ValueError(f"{cap_column(channel, period)} cannot be negative")
            caps.append((code, limits, period, reasons.CUSTOMER_CAP))
    return _cap_verdicts(batch, caps)


def _company_cap(batch: _Batch) -> list[_Verdict]:
    caps = [
        (
            -1 if cap.channel is None else cap.channel.code,
            np.full(batch.table.num_rows, cap.limit),
            cap.period,
            company_cap_code(cap),
        )
        for cap in batch.policy.caps
        if cap.channel is None or cap.channel is batch.intent.channel
    ]
    return _cap_verdicts(batch, caps)


_RULES: dict[str, _Rule] = {
    reasons.CHECK_ERASURE: _erasure,
    reasons.CHECK_LEGAL_BASIS: _legal_basis,
    reasons.CHECK_CHANNEL: _channel,
    reasons.CHECK_TOPIC: _topic,
    reasons.CHECK_PAUSE: _pause,
    reasons.CHECK_QUIET_HOURS: _quiet_hours,
    reasons.CHECK_CUSTOMER_CAP: _customer_cap,
    reasons.CHECK_COMPANY_CAP: _company_cap,
}


def _codes(policy: CompanyPolicy) -> tuple[str, ...]:
    """Every reason code a decision under ``policy`` can give: the fixed ones, then one per
    company promise the policy holds to."""
    promises = [cap.promise for cap in policy.caps if cap.promise]
    if policy.quiet_hours_promise:
        promises.append(policy.quiet_hours_promise)
    extra = tuple(dict.fromkeys(reasons.promise_reason(key) for key in promises))
    return reasons.REASON_CODES + extra


def _result(
    table: pa.Table, reason: vec.Ints, until: vec.Ints, deferred: vec.Bools, codes: tuple[str, ...]
) -> pa.Table:
    outcome = np.full(len(reason), _ALLOWED, dtype=np.int8)
    outcome[reason >= 0] = _DENIED
    outcome[deferred] = _DEFERRED
    columns = [
        _column(table, "customer_id"),
        pa.DictionaryArray.from_arrays(pa.array(outcome), pa.array(OUTCOMES)),
        pa.DictionaryArray.from_arrays(
            pa.array(reason.astype(np.int8), mask=reason < 0),
            pa.array(codes),
        ),
        pa.array(until, type=UTC_US, mask=~deferred),
    ]
    return pa.Table.from_arrays(columns, schema=RESULT_SCHEMA)


MIN_ROWS_PER_THREAD = 65_536  # below this a thread costs more than it saves


def decide_batch(
    *,
    states: pa.Table,
    intent: Intent,
    policy: CompanyPolicy,
    threads: int | None = None,
    min_rows_per_thread: int = MIN_ROWS_PER_THREAD,
) -> pa.Table:
    """Decide one intended message for every customer in ``states`` (see :data:`STATE_SCHEMA`).

    A polars DataFrame is accepted too (anything with ``to_arrow()``). Raises ValueError when
    the table does not fit the schema.

    Rows are independent, so a large table is cut into contiguous slices decided on
    ``threads`` threads (default: the cores this process may use); NumPy and Arrow release
    the GIL in their kernels. The result keeps the input order, one chunk per slice.
    """
    if not isinstance(states, pa.Table) and hasattr(states, "to_arrow"):
        states = states.to_arrow()
    wanted = threads if threads is not None else available_cores()
    if wanted < 1:
        raise ValueError("threads must be at least 1")
    parts = max(1, min(wanted, states.num_rows // max(1, min_rows_per_thread)))
    if parts == 1:
        return _decide_slice(states, intent, policy)
    size = -(-states.num_rows // parts)
    slices = [states.slice(start, size) for start in range(0, states.num_rows, size)]
    with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="decide") as pool:
        results = list(pool.map(lambda part: _decide_slice(part, intent, policy), slices))
    return pa.concat_tables(results)


def _decide_slice(states: pa.Table, intent: Intent, policy: CompanyPolicy) -> pa.Table:
    at_us = clock.to_us(intent.at)
    rows = states.num_rows
    reason = np.full(rows, -1, dtype=np.int64)
    until = np.zeros(rows, dtype=np.int64)
    deferred = np.zeros(rows, dtype=np.bool_)
    open_rows = np.ones(rows, dtype=np.bool_)
    batch = _Batch(states, intent, policy, at_us, open_rows)
    codes = _codes(policy)
    number = {code: index for index, code in enumerate(codes)}
    for name in reasons.CHECK_ORDER:
        if intent.kind not in APPLIES[name]:
            continue
        for verdict in _RULES[name](batch):
            hit = verdict.mask & open_rows
            reason[hit] = number[verdict.code]
            if verdict.until is not None:
                until[hit] = verdict.until[hit]
                deferred |= hit
            open_rows &= ~hit
    return _result(states, reason, until, deferred, codes)
