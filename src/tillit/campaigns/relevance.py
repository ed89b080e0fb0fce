"""How relevant a campaign is to each customer, and why, in words the customer can read.

The score (:class:`tillit.campaigns.definitions.Relevance`) adds two things the customer did
themselves: choosing one of the campaign's topics, and recent behaviour staff mapped to those
topics (e.g. ``Product Viewed`` with ``category`` = ``outdoor``). Pure NumPy over whole columns:
no database, so the planner, the benchmark and the tests compute it the same way.

Behaviour arrives as an Arrow table of events, one row per event:

``row``        int32: the customer's position in the audience
``name``       string: the event name
``timestamp``  timestamp[us, UTC]
``<property>`` string: one column per property a signal names (e.g. ``category``)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tillit.campaigns.definitions import CampaignDefinition, Relevance
from tillit.i18n import N_, translations

EVENT_COLUMNS = ("row", "name", "timestamp")


@dataclass(frozen=True)
class Scores:
    score: npt.NDArray[np.float64]  # 0..1 per row
    chose: npt.NDArray[np.bool_]  # (rows, topics): the customer chose the topic
    counts: npt.NDArray[np.int64]  # (rows, signals): recent events per signal

    def relevant(self, rule: Relevance) -> npt.NDArray[np.bool_]:
        if not rule.enabled:
            return np.ones(len(self.score), dtype=np.bool_)
        return self.score >= rule.min_score - 1e-12

    def explanation(self, row: int, definition: CampaignDefinition) -> dict[str, Any]:
        """What made the score, kept with the message to be put in words later."""
        topics = [t for t, chose in zip(definition.topics, self.chose[row], strict=True) if chose]
        signals = [[i, int(c)] for i, c in enumerate(self.counts[row]) if c > 0]
        return {
            "score": round(float(self.score[row]), 4),
            "topics": topics,
            "signals": signals,
            "days": definition.relevance.window_days,
        }


def chosen_matrix(
    chosen_topics: Sequence[frozenset[str] | None], topics: Sequence[str]
) -> npt.NDArray[np.bool_]:
    """(rows, topics): whether each customer explicitly chose each campaign topic (a customer
    who never chose topics chose none of them: the default is not a choice)."""
    matrix = np.zeros((len(chosen_topics), len(topics)), dtype=np.bool_)
    for column, topic in enumerate(topics):
        matrix[:, column] = [chosen is not None and topic in chosen for chosen in chosen_topics]
    return matrix


def chosen_from_column(column: pa.ChunkedArray | pa.Array, topics: Sequence[str]) -> Any:
    """:func:`chosen_matrix` from the contact state table's ``chosen_topics`` list column,
    without making a Python object per customer (null: never chose)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    rows = len(array)
    matrix = np.zeros((rows, len(topics)), dtype=np.bool_)
    if not topics or rows == 0:
        return matrix
    offsets = np.asarray(array.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    parents = np.repeat(np.arange(rows), np.diff(offsets))
    values = array.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    for column_index, topic in enumerate(topics):
        equal = pc.fill_null(pc.equal(values, topic), False)
        hit = np.asarray(equal.to_numpy(zero_copy_only=False), dtype=np.bool_)
        matrix[parents[hit], column_index] = True
    matrix &= valid[:, None]  # a null list (never chose) holds no choice, whatever it spans
    return matrix


def signal_counts(
    events: pa.Table, definition: CampaignDefinition, rows: int, at: datetime
) -> npt.NDArray[np.int64]:
    """(rows, signals): each customer's events matching each signal within the window."""
    signals = definition.relevance.signals
    counts = np.zeros((rows, len(signals)), dtype=np.int64)
    if not signals or events.num_rows == 0:
        return counts
    since = pa.scalar(
        at - timedelta(days=definition.relevance.window_days), pa.timestamp("us", "UTC")
    )
    until = pa.scalar(at, pa.timestamp("us", "UTC"))
    timestamps = events.column("timestamp")
    if timestamps.type != pa.timestamp("us", "UTC"):
        timestamps = timestamps.cast(pa.timestamp("us", "UTC"))
    in_window = pc.and_(pc.greater_equal(timestamps, since), pc.less_equal(timestamps, until))
    names = events.column("name")
    row_numbers = events.column("row").to_numpy()
    by_name: dict[str, Any] = {}
    for index, signal in enumerate(signals):
        if signal.event not in by_name:
            by_name[signal.event] = pc.and_(pc.equal(names, signal.event), in_window)
        mask = by_name[signal.event]
        if signal.property is not None:
            if signal.property not in events.column_names:
                continue  # no event carries the property: nothing matches
            mask = pc.and_(mask, pc.equal(events.column(signal.property), signal.value))
        hits = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=np.bool_)
        counts[:, index] = np.bincount(row_numbers[hits], minlength=rows)[:rows]
    return counts


def score(
    definition: CampaignDefinition,
    chose: npt.NDArray[np.bool_],
    counts: npt.NDArray[np.int64],
) -> Scores:
    rule = definition.relevance
    total = np.zeros(chose.shape[0], dtype=np.float64)
    if chose.shape[1]:
        total += rule.topic_weight * chose.any(axis=1)
    for index, signal in enumerate(rule.signals):
        total += signal.weight * np.minimum(counts[:, index], signal.saturation) / signal.saturation
    np.minimum(total, 1.0, out=total)
    return Scores(score=total, chose=chose, counts=counts)


# -- in words -----------------------------------------------------------------------------------

WHY_BECAUSE = N_("Relevant to you because %(reasons)s.")
WHY_TOPICS = N_("you chose %(topics)s")
WHY_SIGNAL = N_("you %(what)s %(count)d times in the last %(days)d days")
WHY_BLAST = N_(
    "Sent to a random part of our customers without choosing by relevance, so we can check "
    "that choosing by relevance serves you better."
)
WHY_NOTHING = N_("We sent this to everyone it was meant for.")
AND = N_("and")


def reason_text(
    explanation: dict[str, Any],
    definition: CampaignDefinition,
    language: str,
    *,
    group: str = "relevant",
    topic_name: Callable[[str], str] = str,
) -> str:
    """'Relevant to you because you chose offers and looked at running shoes 3 times in the last
    7 days.' in the customer's language, from what was kept at planning."""
    gettext = translations(language).gettext
    if group == "blast":
        return gettext(WHY_BLAST)
    parts = []
    if explanation.get("topics"):
        names = [topic_name(topic) for topic in explanation["topics"]]
        parts.append(gettext(WHY_TOPICS) % {"topics": _join(names, gettext(AND))})
    signals = definition.relevance.signals
    for index, count in explanation.get("signals", []):
        if index >= len(signals):
            continue  # the definition changed since: leave out what it no longer names
        label = signals[index].label
        what = (
            label.get(language)
            or label.get(definition.fallback_language or "en")
            or next(iter(label.values()))
        )
        parts.append(
            gettext(WHY_SIGNAL) % {"what": what, "count": count, "days": explanation.get("days", 7)}
        )
    if not parts:
        return gettext(WHY_NOTHING)
    return gettext(WHY_BECAUSE) % {"reasons": _join(parts, gettext(AND))}


def _join(parts: list[str], word: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {word} {parts[-1]}"


def auc(scores: Sequence[float], truth: Sequence[bool]) -> float:
    """The area under the ROC curve (ties count half): the chance a truly interested customer
    scores above one who is not."""
    values = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(truth, dtype=np.bool_)
    positives, negatives = values[labels], values[~labels]
    if not len(positives) or not len(negatives):
        raise ValueError("the AUC needs both interested and uninterested customers")
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    # Average ranks for ties.
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(average, counts)
    rank_sum = ranks[labels].sum()
    n_pos, n_neg = len(positives), len(negatives)
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
