"""Every kind of promise as one Ibis expression over the analytics model (DuckDB or Spark).

Each kind yields its *instances*: one row per thing the promise is about (a case, a capped
send, a withdrawal, a data request, a dialogue send, a low score), with

    evidence_kind, evidence_id   what shows it (the case, send, request, answer; for a
                                 withdrawal the first marketing send after its deadline)
    customer_id, person_id       whom it concerns
    started_at                   when the instance began (it is counted in that day and week)
    broke_at                     the deadline missed or the offending send; null when kept
    kept                         boolean
    channel, campaign, team,     where it broke: the channel; the campaign that planned the
    source                       send; the team, which is the case's assignee (Tillit records
                                 no teams; staff may assign a case to a team's name); and the
                                 source: the topic, question, request kind or case rule

Only *decided* instances are returned: kept, or past their deadline at ``as_of``; a case that
may still be answered in time is not counted either way. Records after ``as_of`` are ignored,
so a measurement can be repeated for any past instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from tillit.analytics.tables import Model
from tillit.config import parse_company_caps
from tillit.promises import catalogue as kinds

CAPPED = ("marketing", "dialogue")  # the kinds of message caps and quiet hours are about
WITHDRAWALS = ("withdrawn", "objected")
WORK_DIR = "promises-work"

COLUMNS = (
    "evidence_kind",
    "evidence_id",
    "customer_id",
    "person_id",
    "started_at",
    "broke_at",
    "kept",
    "channel",
    "campaign",
    "team",
    "source",
)
# What an incremental round of withdrawals is given of the breaches stored at the last round.
BREACH_COLUMNS = ("customer_id", "evidence_id", "started_at", "broke_at")
# Raised when the instances' columns change: a promise measured before is measured whole again.
SHAPE = 2


@dataclass(frozen=True)
class Rule:
    """One promise to evaluate: its kind, checked parameters and the caps it resolves to."""

    key: str
    kind: str
    parameters: dict[str, Any]
    caps: str = ""  # message caps: the effective caps text
    # Only instances that began at or after this instant (an incremental round); the records
    # before it are read only as far back as the kind needs (a cap's period, the spacing).
    since: datetime | None = None
    # The instant of the round whose figures are kept before ``since``: an earlier instance
    # that broke after it (a withdrawal, by a newer message) is returned as well.
    previous: datetime | None = None
    # With ``previous``, for withdrawals: the breaches stored by then (BREACH_COLUMNS). An
    # earlier withdrawal one of their sends broke stays broken, so the round reads only the
    # messages since ``since``, not every earlier one of the people sent marketing since.
    breaches: pa.Table | None = field(default=None, compare=False)


def _lit(moment: datetime) -> ir.TimestampScalar:
    return ibis.literal(moment.astimezone(UTC)).cast("timestamp('UTC')")


def _seconds(column: ir.TimestampValue) -> ir.IntegerValue:
    # Whole seconds on both engines: DuckDB's epoch keeps the fraction, Spark's drops it.
    return column.epoch_seconds().floor().cast("int64")


def _shape(table: ir.Table, **columns: Any) -> ir.Table:
    values = {
        name: columns.get(name, table[name] if name in table.columns else None) for name in COLUMNS
    }
    typed = {
        "evidence_kind": "string",
        "evidence_id": "int64",
        "customer_id": "int64",
        "person_id": "int64",
        "started_at": "timestamp('UTC')",
        "broke_at": "timestamp('UTC')",
        "kept": "boolean",
        "channel": "string",
        "campaign": "string",
        "team": "string",
        "source": "string",
    }
    out = {}
    for name, value in values.items():
        expr = ibis.literal(value) if not isinstance(value, ir.Value) else value
        out[name] = expr.cast(typed[name]) if value is not None else ibis.null(typed[name])
    return table.select(**out)


def _at(as_of: datetime) -> ir.TimestampScalar:
    return ibis.literal(as_of.astimezone(UTC)).cast("timestamp('UTC')")


def _deadline(
    table: ir.Table,
    *,
    start: str,
    done: str,
    length: timedelta,
    as_of: datetime,
    evidence: str,
    id_column: str,
    channel: Any = None,
    source: Any = None,
    team: Any = None,
    since: datetime | None = None,
) -> ir.Table:
    """Instances kept when ``done`` came at most ``length`` after ``start``."""
    now = _at(as_of)
    table = table.filter(table[start] <= now)
    if since is not None:
        table = table.filter(table[start] >= _lit(since))
    deadline = table[start] + ibis.interval(seconds=int(length.total_seconds()))
    finished = table[done].notnull() & (table[done] <= now)
    kept = finished & (table[done] <= deadline)
    decided = finished | (deadline <= now)
    table = table.mutate(_deadline=deadline, _kept=kept, _decided=decided).filter(
        lambda t: t._decided
    )
    return _shape(
        table,
        evidence_kind=evidence,
        evidence_id=table[id_column],
        started_at=table[start],
        broke_at=ibis.ifelse(table._kept, ibis.null("timestamp('UTC')"), table._deadline),
        kept=table._kept,
        channel=channel(table) if callable(channel) else channel,
        source=source(table) if callable(source) else source,
        team=team(table) if callable(team) else team,
    )


def _first_reply(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    cases = model.cases()
    return _deadline(
        cases,
        start="created_at",
        done="first_response_at",
        length=timedelta(hours=rule.parameters["hours"]),
        as_of=as_of,
        evidence="case",
        id_column="case_id",
        source=lambda t: t.rule,
        team=lambda t: t.assignee,
        since=rule.since,
    )


def _resolution(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    cases = model.cases()
    return _deadline(
        cases,
        start="created_at",
        done="resolved_at",
        length=timedelta(hours=rule.parameters["hours"]),
        as_of=as_of,
        evidence="case",
        id_column="case_id",
        source=lambda t: t.rule,
        team=lambda t: t.assignee,
        since=rule.since,
    )


def _data_request(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    requests = model.data_requests()
    requests = requests.filter(requests.customer_id.notnull())
    return _deadline(
        requests,
        start="received_at",
        done="completed_at",
        length=timedelta(days=rule.parameters["days"]),
        as_of=as_of,
        evidence="request",
        id_column="request_id",
        channel=lambda t: t.channel,
        source=lambda t: t.kind,
        since=rule.since,
    )


def _capped_sends(model: Model, as_of: datetime, since: datetime | None = None) -> ir.Table:
    sends = model.sends()
    sends = sends.filter(sends.kind.isin(CAPPED) & (sends.sent_at <= _at(as_of)))
    return sends if since is None else sends.filter(sends.sent_at >= _lit(since))


def _send_instances(sends: ir.Table, broken: ir.BooleanValue) -> ir.Table:
    return _shape(
        sends,
        evidence_kind="send",
        evidence_id=sends.send_id,
        started_at=sends.sent_at,
        broke_at=ibis.ifelse(broken, sends.sent_at, ibis.null("timestamp('UTC')")),
        kept=~broken,
        channel=sends.channel,
        campaign=sends.campaign,
        source=sends.topic,
    )


def _message_cap(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    """A capped send breaks the promise when, counting it, more capped sends than a cap's limit
    went to the person within the cap's rolling period (on its channel, or on all)."""
    caps = parse_company_caps(rule.caps)
    longest = max((cap.period.length for cap in caps), default=timedelta(0))
    since = None if rule.since is None else rule.since - longest
    sends = _capped_sends(model, as_of, since).mutate(_s=lambda t: _seconds(t.sent_at))
    counts = {}
    for number, cap in enumerate(caps):
        length = int(cap.period.length.total_seconds())
        group = ["person_id"] if cap.channel is None else ["person_id", "channel"]
        window = ibis.range_window(preceding=length - 1, following=0, group_by=group, order_by="_s")
        counted = sends.send_id.count().over(window)
        if cap.channel is not None:
            # Only sends on the cap's channel count; others get a count of zero.
            counted = ibis.ifelse(sends.channel == cap.channel.value, counted, 0)
        counts[f"_c{number}"] = counted
    # Every cap's count in one projection: the engine sorts once for windows alike.
    sends = sends.mutate(**counts)
    broken: ir.BooleanValue = ibis.literal(False)
    for number, cap in enumerate(caps):
        broken = broken | (sends[f"_c{number}"] > cap.limit)
    return _send_instances(sends, broken)


def _question_spacing(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    """A dialogue send breaks the promise when it came less than N days after the person's
    previous one."""
    sends = model.sends()
    sends = sends.filter((sends.kind == "dialogue") & (sends.sent_at <= _at(as_of)))
    if rule.since is not None:  # an earlier question than this is far enough back anyway
        sends = sends.filter(
            sends.sent_at >= _lit(rule.since - timedelta(days=rule.parameters["days"]))
        )
    window = ibis.window(group_by="person_id", order_by=[sends.sent_at, sends.send_id])
    sends = sends.mutate(_previous=sends.sent_at.lag().over(window))
    gap = _seconds(sends.sent_at) - _seconds(sends._previous)
    broken = sends._previous.notnull() & (gap < rule.parameters["days"] * 86400)
    return _send_instances(sends, broken)


def _quiet_hours(model: Model, rule: Rule, as_of: datetime, offsets: ir.Table) -> ir.Table:
    """A marketing or dialogue send breaks the promise when it went out inside the quiet hours
    the person had set at the time, on their own clock (their preference's time zone, else
    their profile's)."""
    sends = _capped_sends(model, as_of, rule.since)
    versions = model.snapshot("preferences")
    effective = versions.select(
        p_customer=versions.customer_id, p_version=versions.version, p_at=versions.recorded_at
    )
    joined = sends.join(
        effective,
        [sends.customer_id == effective.p_customer, effective.p_at <= sends.sent_at],
    )
    # The send's own columns as keys, so the version chosen needs no join back to the sends.
    keys = ["send_id", "customer_id", "person_id", "channel", "campaign", "topic", "sent_at"]
    current = joined.group_by(keys).aggregate(p_version=joined.p_version.max())
    documents = versions.select(
        q_customer=versions.customer_id, q_version=versions.version, document=versions.document
    )
    if rule.since is None:
        # Each preference version's document is read once, not once for every send it covers;
        # in an incremental round the few sends are fewer than the versions.
        documents = _read_quiet_hours(documents)
        documents = documents.filter(_has_quiet_hours(documents))
    sends = current.join(
        documents,
        [current.customer_id == documents.q_customer, current.p_version == documents.q_version],
    )
    if rule.since is not None:
        sends = _read_quiet_hours(sends)
    customers = model.snapshot("customers").select(
        z_customer="customer_id", profile_zone="time_zone"
    )
    sends = sends.left_join(customers, sends.customer_id == customers.z_customer)
    zone = ibis.coalesce(sends.pref_zone, sends.profile_zone, ibis.literal("UTC"))
    sends = sends.mutate(zone=zone, _s=_seconds(sends.sent_at))
    sends = sends.join(
        offsets, [sends.zone == offsets.zone_name, sends._s // 3600 == offsets.hour_utc]
    )
    sends = sends.mutate(_minute=((sends._s + sends.offset_s) % 86400) // 60)
    inside = ibis.ifelse(
        sends.q_start < sends.q_end,
        (sends._minute >= sends.q_start) & (sends._minute < sends.q_end),
        (sends._minute >= sends.q_start) | (sends._minute < sends.q_end),
    )
    # A send without quiet hours is no instance. Left out by a value of the send's own time:
    # a test of the document alone the engine pushes down to every preference version, which
    # an incremental round would then read whole instead of its few sends' documents.
    sends = sends.mutate(_inside=ibis.ifelse(_has_quiet_hours(sends), inside, ibis.null("boolean")))
    sends = sends.filter(sends._inside.notnull())
    return _send_instances(sends, sends._inside)


def _read_quiet_hours(table: ir.Table) -> ir.Table:
    """The quiet hours (minutes of the day) and time zone of each row's preference document
    (null hours: none set). Each field is read once: the times as text first."""
    document = table.document.cast("json")
    table = table.mutate(
        start_text=_text(document["quiet_hours"]["start"]),
        end_text=_text(document["quiet_hours"]["end"]),
        pref_zone=_text(document["time_zone"]),
    )
    return table.mutate(q_start=_minute(table.start_text), q_end=_minute(table.end_text))


def _has_quiet_hours(table: ir.Table) -> ir.BooleanValue:
    return table.start_text.notnull() & table.end_text.notnull()


def _text(value: ir.Value) -> ir.StringValue:
    """A JSON string as text on both engines (DuckDB keeps the quotes, Spark does not)."""
    return value.cast("string").replace('"', "").nullif("null")


def _minute(text: ir.StringValue) -> ir.IntegerValue:
    # "21:00:00"
    return text.substr(0, 2).cast("int64") * 60 + text.substr(3, 2).cast("int64")


def _withdrawal_stop(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    """A withdrawal (or objection, or unsubscribe) is broken by the first marketing send for its
    purpose later than N hours after it and before the person granted the purpose again."""
    now = _at(as_of)
    consents = model.consents().filter(lambda t: t.recorded_at <= now)
    withdrawals = consents.filter(consents.decision.isin(WITHDRAWALS))
    grants = consents.filter(consents.decision == "granted").select(
        g_customer="customer_id", g_purpose="purpose_key", g_sequence="sequence", g_at="recorded_at"
    )
    regrant = (
        withdrawals.join(
            grants,
            [
                withdrawals.customer_id == grants.g_customer,
                withdrawals.purpose_key == grants.g_purpose,
                grants.g_sequence > withdrawals.sequence,
            ],
        )
        .group_by("consent_id")
        .aggregate(until=ibis._.g_at.min())
    )
    withdrawals = withdrawals.left_join(regrant, "consent_id").drop("consent_id_right")
    hours = ibis.interval(seconds=rule.parameters["hours"] * 3600)
    withdrawals = withdrawals.mutate(deadline=withdrawals.recorded_at + hours)
    withdrawals = withdrawals.filter(withdrawals.deadline <= now)
    sends = model.sends()
    marketing = sends.filter((sends.kind == "marketing") & (sends.sent_at <= now))
    if rule.since is not None:
        withdrawals = _still_open(model, rule, withdrawals, marketing)
        # A withdrawal since ``since`` has its deadline after it, and an earlier one still
        # open is broken only by a message after ``previous``: older messages are not read.
        marketing = marketing.filter(marketing.sent_at > _lit(rule.since))
    marketing = marketing.select(
        s_person="person_id",
        s_decision="decision_id",
        s_id="send_id",
        s_at="sent_at",
        s_channel="channel",
        s_campaign="campaign",
        s_topic="topic",
    )
    # Only the purpose is read from a decision: its person is the send's.
    decisions = model.snapshot("contact_decisions").select(
        d_id="decision_id", d_purpose="purpose_key"
    )
    # Each withdrawal with the person's marketing sends after its deadline and before a grant
    # (none: one row of nulls), then each send's purpose: joined in that order, the few
    # withdrawals pick their sends before any decision is looked up.
    table = withdrawals.left_join(
        marketing,
        [
            withdrawals.person_id == marketing.s_person,
            *_while_withdrawn(withdrawals, marketing.s_at),
        ],
    )
    table = table.left_join(decisions, table.s_decision == decisions.d_id)
    # A send for another purpose does not break it; the first one that does (the least id
    # among those at the same instant) is its evidence: a window rather than a join back.
    breaks = table.d_purpose == table.purpose_key
    table = table.mutate(
        b_at=ibis.ifelse(breaks, table.s_at, ibis.null("timestamp('UTC')")),
        b_id=ibis.ifelse(breaks, table.s_id, ibis.null("int64")),
        b_channel=ibis.ifelse(breaks, table.s_channel, ibis.null("string")),
        b_topic=ibis.ifelse(breaks, table.s_topic, ibis.null("string")),
        b_campaign=ibis.ifelse(breaks, table.s_campaign, ibis.null("string")),
    )
    # (The window as a column first: PySpark cannot compile it inside a filter.)
    table = table.mutate(_first=table.b_at.min().over(group_by="consent_id"))
    table = table.filter(table._first.isnull() | (table.b_at == table._first))
    table = table.group_by(
        ["consent_id", "customer_id", "person_id", "purpose_key", "recorded_at", "b_at"]
    ).aggregate(
        s_id=table.b_id.min(),
        s_channel=table.b_channel.min(),
        s_topic=table.b_topic.min(),
        s_campaign=table.b_campaign.min(),
    )
    table = table.rename(s_at="b_at")
    kept = table.s_id.isnull()
    return _shape(
        table,
        evidence_kind=ibis.ifelse(kept, "consent", "send"),
        evidence_id=ibis.coalesce(table.s_id, table.consent_id),
        started_at=table.recorded_at,
        broke_at=table.s_at,
        kept=kept,
        channel=table.s_channel,
        campaign=table.s_campaign,
        source=ibis.coalesce(table.s_topic, table.purpose_key),
    )


def _while_withdrawn(withdrawals: ir.Table, at: ir.TimestampValue) -> list[ir.BooleanValue]:
    """A message at ``at`` breaks the withdrawal: after its deadline, before a new grant."""
    return [
        at > withdrawals.deadline,
        withdrawals.until.isnull() | (at < withdrawals.until),
    ]


def _still_open(model: Model, rule: Rule, withdrawals: ir.Table, marketing: ir.Table) -> ir.Table:
    """An incremental round's withdrawals: those that began since ``rule.since``, and (with
    ``rule.previous``) the earlier ones a message after ``previous`` may break: of the people
    sent marketing since, and not broken by then."""
    assert rule.since is not None
    fresh = withdrawals.recorded_at >= _lit(rule.since)
    if rule.previous is None:
        return withdrawals.filter(fresh)
    if rule.breaches is None:
        raise ValueError("an incremental round of withdrawals needs the breaches stored")
    recent = marketing.filter(marketing.sent_at > _lit(rule.previous))
    broken = _stored_breaking_sends(model, rule, withdrawals)
    earlier = withdrawals.filter(~fresh)
    closed = earlier.join(
        broken,
        [
            earlier.person_id == broken.b_person,
            earlier.purpose_key == broken.b_purpose,
            *_while_withdrawn(earlier, broken.b_at),
        ],
    ).select("consent_id")
    return withdrawals.filter(
        fresh
        | (
            withdrawals.person_id.isin(recent.person_id)
            & ~withdrawals.consent_id.isin(closed.consent_id)
        )
    )


def _stored_breaking_sends(model: Model, rule: Rule, withdrawals: ir.Table) -> ir.Table:
    """The sends the stored breaches name, each with its person, instant and purpose
    (``b_person``, ``b_at``, ``b_purpose``): a send broke every withdrawal of its person and
    purpose whose deadline it followed before a grant, whichever one its stored breach names.

    A breach names its withdrawal by customer and start; the withdrawal's purpose is the send's.
    Only when that customer withdrew several purposes at the same instant is the send's purpose
    looked up, through its decision; otherwise no earlier message is read."""
    stored = _breaches_table(model, rule)
    named = stored.join(
        withdrawals,
        [
            stored.customer_id == withdrawals.customer_id,
            stored.started_at == withdrawals.recorded_at,
            *_while_withdrawn(withdrawals, stored.broke_at),
        ],
    ).select(b_send="evidence_id", b_person="person_id", b_at="broke_at", b_purpose="purpose_key")
    purposes = named.group_by("b_send").aggregate(_n=named.b_purpose.nunique())
    clear = named.filter(named.b_send.isin(purposes.filter(purposes._n == 1).b_send))
    unclear = purposes.filter(purposes._n > 1)
    # (Empty almost always: DuckDB then reads none of the sends or decisions.)
    sends = model.sends()
    sends = sends.filter(sends.send_id.isin(unclear.b_send))
    decisions = model.snapshot("contact_decisions").select(
        k_id="decision_id", k_purpose="purpose_key"
    )
    looked_up = sends.join(decisions, sends.decision_id == decisions.k_id)
    looked_up = looked_up.select(
        b_send=looked_up.send_id,
        b_person=looked_up.person_id,
        b_at=looked_up.sent_at.cast(named.b_at.type()),
        b_purpose=looked_up.k_purpose,
    )
    return clear.distinct().union(looked_up)


def _breaches_table(model: Model, rule: Rule) -> ir.Table:
    assert rule.breaches is not None
    breaches = rule.breaches
    folder = model.data_dir / WORK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = _unique(folder / f"breaches-{rule.key}.parquet")
    types = {
        "customer_id": pa.int64(),
        "evidence_id": pa.int64(),
        "started_at": pa.timestamp("us", "UTC"),
        "broke_at": pa.timestamp("us", "UTC"),
    }
    table = pa.table({name: breaches.column(name).cast(types[name]) for name in BREACH_COLUMNS})
    pq.write_table(table, path)
    read = model.backend.read_parquet(str(path))
    return read.select(
        customer_id=read.customer_id.cast("int64"),
        evidence_id=read.evidence_id.cast("int64"),
        started_at=read.started_at.cast("timestamp('UTC')"),
        broke_at=read.broke_at.cast("timestamp('UTC')"),
    )


def _detractor_followup(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    """An NPS score of ``max_score`` or less is kept when a case about it had its first reply
    within N days of the answer."""
    answers = model.answers()
    answers = answers.filter(
        (answers.question_type == "nps")
        & answers.score.notnull()
        & (answers.score <= rule.parameters["max_score"])
    )
    cases = model.cases()
    replied = (
        cases.filter(cases.response_id.notnull())
        .group_by("response_id")
        # The team: the assignee of the case about the score (the least, should there be two).
        .aggregate(first_reply=cases.first_response_at.min(), assignee=cases.assignee.min())
    )
    answers = answers.left_join(replied, "response_id").drop("response_id_right")
    return _deadline(
        answers,
        start="answered_at",
        done="first_reply",
        length=timedelta(days=rule.parameters["days"]),
        as_of=as_of,
        evidence="answer",
        id_column="response_id",
        channel=lambda t: t.channel,
        source=lambda t: t.question_key,
        team=lambda t: t.assignee,
        since=rule.since,
    )


_SIMPLE: dict[str, Callable[[Model, Rule, datetime], ir.Table]] = {
    kinds.FIRST_REPLY: _first_reply,
    kinds.RESOLUTION: _resolution,
    kinds.MESSAGE_CAP: _message_cap,
    kinds.WITHDRAWAL_STOP: _withdrawal_stop,
    kinds.DATA_REQUEST: _data_request,
    kinds.QUESTION_SPACING: _question_spacing,
    kinds.DETRACTOR_FOLLOWUP: _detractor_followup,
}


def instances(model: Model, rule: Rule, as_of: datetime) -> ir.Table:
    """The decided instances of one promise at ``as_of`` (see the module docstring); with
    ``rule.since``, only those that began since then, and with ``rule.previous`` also the
    earlier ones that broke after it (kept at that round, broken now)."""
    if rule.kind == kinds.QUIET_HOURS:
        found = _quiet_hours(model, rule, as_of, zone_offsets(model, as_of, rule.since))
    else:
        found = _SIMPLE[rule.kind](model, rule, as_of)
    if rule.since is not None:
        wanted = found.started_at >= _lit(rule.since)
        if rule.previous is not None:
            wanted = wanted | (found.broke_at > _lit(rule.previous))
        found = found.filter(wanted)
    return found


def horizon(rule: Rule) -> timedelta:
    """How long after it began an instance may be undecided (its deadline). After that only a
    withdrawal can still change, from kept to broken, by a later marketing message: an
    incremental round finds those through ``Rule.previous``."""
    if rule.kind in (kinds.FIRST_REPLY, kinds.RESOLUTION):
        return timedelta(hours=rule.parameters["hours"])
    if rule.kind in (kinds.DATA_REQUEST, kinds.DETRACTOR_FOLLOWUP):
        return timedelta(days=rule.parameters["days"])
    if rule.kind == kinds.WITHDRAWAL_STOP:
        return timedelta(hours=rule.parameters["hours"])
    return timedelta(0)  # caps, quiet hours, spacing: decided when the message goes out


# -- time zones ------------------------------------------------------------------------------


def zone_offsets(model: Model, as_of: datetime, since: datetime | None = None) -> ir.Table:
    """Each time zone's offset from UTC per hour over the sends' span (from ``since`` on, when
    given): a small Parquet file both engines join on (zone, hour), as neither converts zones
    the same way through Ibis. Offsets change on whole hours in every zone Tillit's customers
    use (a zone changing on a half hour is off for that half hour)."""
    if since is None:
        sends = model.snapshot("sends")
        span = (
            sends.aggregate(low=sends.sent_at.min(), high=sends.sent_at.max())
            .to_pyarrow()
            .to_pylist()[0]
        )
    else:  # an incremental round: the sends since then, without reading them all
        span = {"low": since, "high": as_of}
    customers = model.snapshot("customers")
    zones = set(customers.select("time_zone").distinct().to_pyarrow().column(0).to_pylist())
    preferences = model.snapshot("preferences")
    named = preferences.select(
        zone=_text(preferences.document.cast("json")["time_zone"])
    ).distinct()
    zones |= set(named.to_pyarrow().column(0).to_pylist())
    zones = {zone for zone in zones if zone and _known(zone)} | {"UTC"}
    low, high = span["low"], span["high"]
    if low is None:
        low = high = as_of
    first = int(low.timestamp()) // 3600
    last = int(min(high, as_of).timestamp()) // 3600 if high else first
    last = max(last, first)
    names, hours, offsets = [], [], []
    for zone in sorted(zones):
        info = ZoneInfo(zone)
        for hour in range(first, last + 1):
            at = datetime.fromtimestamp(hour * 3600, UTC)
            offset = at.astimezone(info).utcoffset()
            names.append(zone)
            hours.append(hour)
            offsets.append(int(offset.total_seconds()) if offset else 0)
    folder = model.data_dir / WORK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = _unique(folder / "zone_offsets.parquet")
    table = pa.table(
        {
            "zone_name": names,
            "hour_utc": pa.array(hours, pa.int64()),
            "offset_s": pa.array(offsets, pa.int64()),
        }
    )
    pq.write_table(table, path)
    return model.backend.read_parquet(str(path))


def _unique(path: Path) -> Path:
    # A fresh name each time: a backend may still hold a view of the last file.
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    for old in path.parent.glob(f"{path.stem}-*.parquet"):
        old.unlink(missing_ok=True)
    return path.with_name(f"{path.stem}-{stamp}.parquet")


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
