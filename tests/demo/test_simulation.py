"""The demo's simulated year, on the real database: a small run (150 people, 60 days) shows
every page's data, acted out through the services; and the same seed gives the same year."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from tillit.config import Settings
from tillit.consent.models import ConsentRecord, PreferenceVersion
from tillit.contact.tables import DecisionRecord
from tillit.customers.models import Customer, CustomerStatus
from tillit.customers.service import Defaults
from tillit.demo.simulation.options import Options
from tillit.demo.simulation.population import build_population
from tillit.demo.simulation.run import ACTS, TRUTH_FILE, simulate, truth_path
from tillit.dialogues import metrics
from tillit.dialogues.models import Case, CaseStatus, Response
from tillit.events.models import Event
from tillit.identity.models import MatchSuggestion
from tillit.privacy.models import ErasureProof
from tillit.storage import make_engine, make_session_factory, upgrade

# A month ago, so what a service records at the present (not the simulated time) stands out.
NOW = (datetime.now(UTC) - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
SMALL = Options(customers=150, days=60, seed=7)
WITHOUT_FEEDBACK = tuple(act for act in ACTS if act[0] != "Feedback")  # 480 comments: slow


@pytest.fixture
def small_year(sessions, settings: Settings, defaults: Defaults, tmp_path: Path):
    own = settings.model_copy(update={"data_dir": tmp_path})
    report = simulate(
        sessions=sessions,
        settings=own,
        defaults=defaults,
        options=SMALL,
        now=NOW,
        acts=WITHOUT_FEEDBACK,
    )
    assert report.simulated
    truth = [orjson.loads(line) for line in truth_path(tmp_path).read_bytes().splitlines()]
    return report, truth, own


def test_a_small_year_fills_every_page(
    small_year, sessions, defaults, traces_of, client, staff_csrf
):
    report, truth, settings = small_year
    with sessions() as session:
        dane = _a_danish_customer_is_seen_on_three_channels(session, truth)
        _consent_was_granted_and_withdrawn(session)
        _nps_has_an_interval(session)
        _cases_are_open_and_breached(session)
        _decisions_hold_back_for_several_reasons(session)
        _matching_found_the_true_duplicates(session, truth)
        _everything_happened_in_the_simulated_year(session)
        needles = _one_erasure_done(session, truth)
    assert traces_of(*needles) == []  # outside the session: it reads every table
    _the_pages_show_it(client, dane)
    # Once per data directory: a second run does nothing and says why.
    again = simulate(sessions=sessions, settings=settings, defaults=defaults, options=SMALL)
    assert not again.simulated and "already simulated" in again.reason
    assert report.counts["events"] > 1000


def _a_danish_customer_is_seen_on_three_channels(session, truth) -> tuple[int, list[str]]:
    """The Danish customer seen on the most channels: (customer id, channels)."""
    danes = [p for p in truth if p.get("country") == "DK" and p["kind"] == "linked"]
    seen = []
    for person in danes:
        customer_id = person["customer_ids"][0]
        channels = session.scalars(
            select(Event.channel).where(Event.customer_id == customer_id).group_by(Event.channel)
        ).all()
        seen.append((len(channels), customer_id, [str(c) for c in channels]))
    count, customer_id, channels = max(seen)
    assert count >= 3
    return customer_id, channels


def _the_pages_show_it(client, dane: tuple[int, list[str]]) -> None:
    customer_id, channels = dane
    for channel in channels:
        page = client.get(f"/staff/customers/{customer_id}/timeline?channel={channel}")
        assert page.status_code == 200 and "No events" not in page.text, channel
    metrics = client.get("/staff/dialogues/metrics")
    assert re.search(r"-?\d+ \(-?\d+ to -?\d+\), \d+", metrics.text), "no NPS with its interval"
    inbox = client.get("/staff/cases").text
    assert re.search(r'badge">(open|assigned)</span>(?:(?!</tr>).)*<td>[12]</td></tr>', inbox)
    matches = client.get("/staff/matches")
    assert matches.status_code == 200 and "No open suggestions" not in matches.text


def _consent_was_granted_and_withdrawn(session) -> None:
    decisions = Counter(session.scalars(select(ConsentRecord.decision)).all())
    assert decisions["granted"] > 50 and decisions["withdrawn"] >= 1
    methods = set(session.scalars(select(ConsentRecord.method)).all())
    assert {"form", "gpc"} <= methods


def _nps_has_an_interval(session) -> None:
    rows = metrics.compute(session=session, dimension="language")
    scored = [row for row in rows if row.nps_n]
    assert scored, "no NPS answers"
    assert all(row.nps_low is not None and row.nps_low <= row.nps <= row.nps_high for row in scored)
    assert len({row.group for row in rows}) >= 3  # answers in several languages


def _cases_are_open_and_breached(session) -> None:
    cases = session.scalars(select(Case)).all()
    assert any(c.status != CaseStatus.resolved for c in cases)
    assert any(c.status == CaseStatus.resolved for c in cases)
    assert any(c.escalation_level > 0 and c.status != CaseStatus.resolved for c in cases)


def _decisions_hold_back_for_several_reasons(session) -> None:
    held = session.scalars(
        select(DecisionRecord.reasons).where(DecisionRecord.outcome != "allowed")
    ).all()
    reasons = {reason for listed in held for reason in listed}
    assert len(reasons) >= 3, reasons
    sent = session.scalar(
        select(func.count()).where(DecisionRecord.outcome == "allowed", DecisionRecord.sent)
    )
    assert sent


def _matching_found_the_true_duplicates(session, truth) -> None:
    found = {
        frozenset(pair)
        for pair in session.execute(
            select(MatchSuggestion.left_customer_id, MatchSuggestion.right_customer_id)
        ).all()
    }
    true = {frozenset(p["duplicate_of"]) for p in truth if p.get("duplicate_of")}
    assert true and found
    assert len(true & found) >= 0.6 * len(true)  # most true duplicates are suggested
    assert len(true & found) >= 0.8 * len(found)  # and most suggestions are true


def _everything_happened_in_the_simulated_year(session) -> None:
    """Every service was given the simulated time (the data requests alone are made now)."""
    columns = (
        PreferenceVersion.recorded_at,
        ConsentRecord.recorded_at,
        DecisionRecord.decided_at,
        Response.answered_at,
        Case.created_at,
        Event.timestamp,
    )
    for column in columns:
        assert session.scalar(select(func.max(column))) <= NOW, column
    relationship = select(func.count()).where(PreferenceVersion.method == "dialogue")
    assert session.scalar(relationship)  # answers that changed preferences, at their time


def _one_erasure_done(session, truth) -> list[str]:
    erased = [p for p in truth if p.get("erased")]
    assert len(erased) == 1 and set(erased[0]) == {"index", "erased"}
    proof = session.scalars(select(ErasureProof)).one()
    # At the year's end, after the newsletters: the erasure removed their contact decisions.
    assert proof.counts["contact_decision"] > 0, proof.counts
    customer = session.scalars(
        select(Customer).where(Customer.status == CustomerStatus.erased)
    ).one()
    person = build_population(SMALL.customers, seed=SMALL.seed, days=SMALL.days)[erased[0]["index"]]
    needles = [person.email, person.loyalty_card or "", f"pos-{person.loyalty_card}"]
    if person.phone:
        needles.append(person.phone)
    assert customer.identities == []
    return needles


def test_the_same_seed_gives_the_same_year(settings: Settings, defaults: Defaults, tmp_path):
    counts = []
    for run in ("one", "two"):
        folder = tmp_path / run
        engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
        folder.mkdir(exist_ok=True)
        upgrade(engine)
        try:
            report = simulate(
                sessions=make_session_factory(engine),
                settings=settings.model_copy(update={"data_dir": folder}),
                defaults=defaults,
                options=Options(customers=80, days=45, seed=3),
                now=NOW,
                acts=tuple(
                    act for act in WITHOUT_FEEDBACK if act[0] != "Matching store and web shop"
                ),
            )
        finally:
            engine.dispose()
        counts.append(report.counts)
        truth = (folder / "demo" / TRUTH_FILE).read_bytes()
        counts.append(truth)
    assert counts[0] == counts[2] and counts[1] == counts[3]
    assert counts[0]["events"] and counts[0]["answers nps"]


def test_the_product_never_reads_the_truth_file():
    source = Path(__file__).parents[2] / "src" / "tillit"
    readers = [
        path
        for path in source.rglob("*.py")
        if "demo" not in path.relative_to(source).parts
        and re.search(r"truth\.jsonl|TRUTH_FILE|truth_path", path.read_text())
    ]
    assert readers == []
