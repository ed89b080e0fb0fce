"""Planning a campaign for its audience, every member in the same order of checks:

1. the contact policy (:func:`tillit.contact.decide_batch`), on each channel the campaign may
   use, in the customer's own order of channels;
2. the relevance gate (off for the blast slice);
3. content in the customer's language (or the campaign's chosen fallback);
4. the send time inside the customer's window: when the policy defers for quiet hours, the
   message is planned for the end of them and the policy asked again for that instant; with
   ``send_time: best_hour``, a customer with events is planned for the next hour at which they
   engage most (:mod:`tillit.campaigns.send_time`), the policy asked again for it, and quiet
   hours then move it to their end;
5. the campaign's own frequency (days between two of its messages to one customer);
6. the hold-out: planned, never sent.

Each member who is not scheduled is held for exactly one reason, the first check that stopped
them. :func:`plan_rows` is the pure core over whole columns; :mod:`tillit.campaigns.service`
loads the audience and stores the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tillit.campaigns import send_time
from tillit.campaigns.definitions import CampaignDefinition, content_for
from tillit.campaigns.relevance import Scores
from tillit.contact import clock
from tillit.contact import reasons as policy_reasons
from tillit.contact.batch import decide_batch
from tillit.contact.models import CompanyPolicy, Intent
from tillit.vocabulary import OutboundChannel

NOT_RELEVANT = "not_relevant"
NO_CONTENT = "no_content_in_language"
CAMPAIGN_FREQUENCY = "campaign_frequency"
HOLDOUT = "holdout"
CAMPAIGN_REASONS = (NOT_RELEVANT, NO_CONTENT, CAMPAIGN_FREQUENCY, HOLDOUT)
# Every reason a member can be held for: the policy's, then the campaign's own.
REASONS: tuple[str, ...] = (
    *policy_reasons.REASON_CODES,
    policy_reasons.UNKNOWN_CUSTOMER,
    *CAMPAIGN_REASONS,
)
_CODE = {code: index for index, code in enumerate(REASONS)}
_QUIET = policy_reasons.REASON_CODES.index(policy_reasons.QUIET_HOURS)
SCHEDULED = -1
RELEVANT, BLAST, HOLDOUT_GROUP = 0, 1, 2
GROUPS = ("relevant", "blast", "holdout")
_DAY_US = clock.US_PER_DAY


@dataclass
class Planned:
    """One entry per audience row."""

    reason: npt.NDArray[np.int16]  # index into REASONS; SCHEDULED (-1) when scheduled
    channel: npt.NDArray[np.int8]  # index into ``channels``; -1 when none was allowed
    not_before_us: npt.NDArray[np.int64]  # when it may go (scheduled rows)
    language: list[str | None]  # the content's language (scheduled rows)
    allowed: npt.NDArray[np.bool_]  # passed the contact policy
    relevant: npt.NDArray[np.bool_]  # ... and the relevance gate (or was in the blast slice)
    channels: tuple[OutboundChannel, ...]

    def held(self) -> dict[str, int]:
        codes, counts = np.unique(self.reason[self.reason >= 0], return_counts=True)
        return {REASONS[int(code)]: int(count) for code, count in zip(codes, counts, strict=True)}

    @property
    def scheduled(self) -> npt.NDArray[np.bool_]:
        return self.reason == SCHEDULED


def campaign_channels(definition: CampaignDefinition) -> tuple[OutboundChannel, ...]:
    if definition.channel == "preferred":
        return tuple(definition.channels)
    return (OutboundChannel(definition.channel),)


def intent_for(definition: CampaignDefinition, channel: OutboundChannel, at: datetime) -> Intent:
    return Intent(
        purpose=definition.purpose,
        kind=definition.kind,
        channel=channel,
        topic=definition.topics[0] if definition.topics else "",
        at=at,
    )


def _decoded(column: pa.ChunkedArray, names: Sequence[str]) -> npt.NDArray[np.int16]:
    """A dictionary column as indices into ``names`` (-1 for null)."""
    index = {name: i for i, name in enumerate(names)}
    parts = []
    for chunk in column.chunks:
        lookup = np.array([index[str(v)] for v in chunk.dictionary.to_pylist()] + [-1], np.int16)
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        indices = np.where(np.asarray(chunk.is_null()), len(lookup) - 1, indices).astype(np.int64)
        parts.append(lookup[indices])
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


def _until_us(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return np.asarray(array.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), np.int64)


_OUTCOMES = ("allowed", "deferred", "denied")


def _decide(
    states: pa.Table,
    definition: CampaignDefinition,
    channel: OutboundChannel,
    at: datetime,
    policy: CompanyPolicy,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16], npt.NDArray[np.int64]]:
    result = decide_batch(states=states, intent=intent_for(definition, channel, at), policy=policy)
    return (
        _decoded(result.column("outcome"), _OUTCOMES),
        _decoded(result.column("reason"), policy_reasons.REASON_CODES),
        _until_us(result.column("defer_until")),
    )


def _ranks(
    channels: tuple[OutboundChannel, ...], orders: Sequence[Sequence[str]] | None, rows: int
) -> npt.NDArray[np.int64]:
    """(rows, channels): the place of each channel in the customer's own order, then the
    campaign's order for the channels they did not rank."""
    base = np.arange(len(channels), dtype=np.int64) + 100
    if orders is None:
        return np.broadcast_to(base, (rows, len(channels)))
    ranks = np.empty((rows, len(channels)), dtype=np.int64)
    memo: dict[tuple[str, ...], npt.NDArray[np.int64]] = {}
    for row, order in enumerate(orders):
        key = tuple(order)
        if key not in memo:
            own = {name: place for place, name in enumerate(key)}
            memo[key] = np.array(
                [own.get(channel.value, 100 + i) for i, channel in enumerate(channels)], np.int64
            )
        ranks[row] = memo[key]
    return ranks


_NO_ASK = np.iinfo(np.int64).min


def _ask_again(
    states: pa.Table,
    definition: CampaignDefinition,
    policy: CompanyPolicy,
    channels: tuple[OutboundChannel, ...],
    chosen: npt.NDArray[np.int64],
    ask: npt.NDArray[np.int64],
    not_before: npt.NDArray[np.int64],
    reason: npt.NDArray[np.int16],
) -> npt.NDArray[np.bool_]:
    """Asks the policy again, for each row with an instant in ``ask``, at that instant; a row
    allowed then goes then (``not_before``). A row deferred for quiet hours there is asked once
    more at their end (its best hour falls in them: it goes when they end, inside its window);
    any other refusal holds it with the policy's reason. Returns the rows newly held."""
    held = np.zeros(len(ask), np.bool_)
    for last in (False, True):
        pending = ask != _NO_ASK
        if not pending.any():
            break
        later = np.full(len(ask), _NO_ASK, np.int64)
        for c, channel_value in enumerate(channels):
            on_channel = pending & (chosen == c)
            for instant in np.unique(ask[on_channel]):
                group_rows = np.flatnonzero(on_channel & (ask == instant))
                again, again_why, again_until = _decide(
                    states.take(pa.array(group_rows)),
                    definition,
                    channel_value,
                    clock.from_us(int(instant)),
                    policy,
                )
                ok = again == 0
                wait = ~ok & (again == 1) & (again_why == _QUIET) & (not last)
                not_before[group_rows[ok]] = int(instant)
                later[group_rows[wait]] = again_until[wait]
                refused = group_rows[~ok & ~wait]
                reason[refused] = again_why[~ok & ~wait]
                held[refused] = True
        ask = later
    return held


def plan_rows(
    *,
    states: pa.Table,
    definition: CampaignDefinition,
    policy: CompanyPolicy,
    at: datetime,
    scores: Scores,
    groups: npt.NDArray[np.int8] | None = None,
    languages: Sequence[str] | None = None,
    channel_orders: Sequence[Sequence[str]] | None = None,
    last_sent_us: npt.NDArray[np.int64] | None = None,
    best_hours: npt.NDArray[np.int8] | None = None,
) -> Planned:
    rows = states.num_rows
    channels = campaign_channels(definition)
    groups = np.zeros(rows, np.int8) if groups is None else groups
    # 1. the contact policy on every channel the campaign may use
    outcome = np.empty((rows, len(channels)), np.int16)
    why = np.empty((rows, len(channels)), np.int16)
    until = np.empty((rows, len(channels)), np.int64)
    for c, on in enumerate(channels):
        outcome[:, c], why[:, c], until[:, c] = _decide(states, definition, on, at, policy)
    quiet = (outcome == 1) & (why == _QUIET)
    usable = (outcome == 0) | quiet
    ranks = _ranks(channels, channel_orders, rows)
    best = np.argmin(np.where(usable, ranks, 1 << 40), axis=1)
    first = np.argmin(ranks, axis=1)
    allowed = usable.any(axis=1)
    chosen = np.where(allowed, best, first)
    take = np.arange(rows)
    reason = np.where(allowed, SCHEDULED, why[take, chosen]).astype(np.int16)
    channel = np.where(allowed, chosen, -1).astype(np.int8)
    # 2. relevance (the blast slice skips it)
    relevant = allowed & (scores.relevant(definition.relevance) | (groups == BLAST))
    reason[allowed & ~relevant] = _CODE[NOT_RELEVANT]
    # 3. content in the customer's language
    language: list[str | None] = [None] * rows
    if languages is not None:
        resolved = {lang: content_for(definition, lang) for lang in set(languages)}
        no_content = np.fromiter((resolved[lang] is None for lang in languages), np.bool_, rows)
        reason[(reason == SCHEDULED) & no_content] = _CODE[NO_CONTENT]
        language = [None if found is None else found[0] for found in map(resolved.get, languages)]
    else:
        fallback = content_for(definition, "en")
        if fallback is None:
            reason[reason == SCHEDULED] = _CODE[NO_CONTENT]
    # 4. the send time: at the customer's best hour, or after quiet hours; asked again then
    pick = np.maximum(chosen, 0)
    ask = np.where((reason == SCHEDULED) & quiet[take, pick], until[take, pick], _NO_ASK)
    if definition.send_time == "best_hour" and best_hours is not None:
        zones, names = send_time.zone_codes(states.column("time_zone"))
        instants = send_time.best_hour_instants_us(
            at=at, hours=best_hours, zones=zones, zone_names=names
        )
        moved = (reason == SCHEDULED) & (best_hours >= 0)
        ask[moved] = instants[moved]
    not_before = np.full(rows, clock.to_us(at), np.int64)
    held = _ask_again(states, definition, policy, channels, chosen, ask, not_before, reason)
    allowed[held] = False
    relevant[held] = False
    # 5. the campaign's own frequency
    if last_sent_us is not None and definition.min_days_between:
        gap = definition.min_days_between * _DAY_US
        too_soon = (reason == SCHEDULED) & (last_sent_us > not_before - gap)
        reason[too_soon] = _CODE[CAMPAIGN_FREQUENCY]
    # 6. the hold-out
    reason[(reason == SCHEDULED) & (groups == HOLDOUT_GROUP)] = _CODE[HOLDOUT]
    return Planned(
        reason=reason,
        channel=channel,
        not_before_us=not_before,
        language=language,
        allowed=allowed,
        relevant=relevant,
        channels=channels,
    )


def groups_by_hash(
    shares: tuple[float, float], points: npt.NDArray[np.float64]
) -> npt.NDArray[np.int8]:
    """Relevant, blast or hold-out from each person's point in [0, 1) (the experiments
    engine's hash): blast first, then hold-out, the rest relevant."""
    blast, holdout = shares
    groups = np.zeros(len(points), np.int8)
    groups[points < blast] = BLAST
    groups[(points >= blast) & (points < blast + holdout)] = HOLDOUT_GROUP
    return groups


def window_start(at: datetime, days: int) -> datetime:
    return at - timedelta(days=days)
