"""Every built-in promise measured from Tillit's own records finds exactly the breaches that
were made, on both engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.promises.helpers import SYSTEM, T0, build, consent, customer, send
from tillit.analytics.engine import connect
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.config import Settings
from tillit.consent.preferences import update_preferences
from tillit.promises.models import Promise, PromiseBreach, PromiseDay, PromiseWeek
from tillit.promises.store import measure_promises
from tillit.storage.session import SessionFactory

AS_OF = T0 + timedelta(days=45)


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_measurement_finds_every_breach_and_nothing_else(
    sessions: SessionFactory, settings: Settings, tmp_path: Path, engine_name: str
) -> None:
    with sessions() as session, session.begin():
        world = build(session, low_score_followed_up_late=True)
    data_dir = tmp_path / "data"
    refresh_snapshots(sessions=sessions, data_dir=data_dir)
    local = settings.model_copy(update={"data_dir": data_dir})
    report = measure_promises(
        sessions=sessions,
        settings=local,
        model=lambda: Model(connect(local, engine_name), data_dir),
        as_of=AS_OF,
    )
    assert len(report.measured) == 8
    with sessions() as session:
        rows = session.execute(select(Promise.key, PromiseBreach).join(Promise)).all()
    found = {(key, breach.evidence_kind, breach.evidence_id) for key, breach in rows}
    assert found == world.broken
    # Where each broke: the campaign that planned the message, the case's team, the channel.
    where = {
        (key, b.evidence_kind, b.evidence_id): (b.campaign, b.team, b.channel) for key, b in rows
    }
    assert where == world.where
    # A second round with nothing changed measures nothing.
    again = measure_promises(
        sessions=sessions,
        settings=local,
        model=lambda: Model(connect(local, engine_name), data_dir),
        as_of=AS_OF,
    )
    assert again.measured == [] and len(again.unchanged) == 8


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_an_incremental_round_gives_what_a_whole_measurement_gives(
    sessions: SessionFactory, settings: Settings, tmp_path: Path, engine_name: str
) -> None:
    with sessions() as session, session.begin():
        world = build(session)
        # eva withdraws and is left alone past the first round; a marketing e-mail between the
        # rounds breaks a promise the first round found kept, on a day the second does not
        # measure again.
        eva = customer(session, "eva")
        consent(session, eva, "granted", T0 - timedelta(days=60))
        consent(session, eva, "withdrawn", T0)
        late = send(session, eva, T0 + timedelta(days=20))
        world.broken.add(("marketing-stops", "send", late))
        # Withdrawals broken before the first round are sent marketing again between the
        # rounds: no new breach. ole's, broken by the winter sale; finn's withdrawal and
        # objection, both broken by one message (stored as one breach).
        send(session, world.customers["ole"], T0 + timedelta(days=30))
        finn = customer(session, "finn")
        consent(session, finn, "granted", T0 - timedelta(days=60))
        consent(session, finn, "withdrawn", T0)
        consent(session, finn, "objected", T0 + timedelta(days=1))
        both = send(session, finn, T0 + timedelta(days=4))
        world.broken.add(("marketing-stops", "send", both))
        send(session, finn, T0 + timedelta(days=30))
        # gro withdraws two purposes at one instant: a stored breach then names both, and only
        # its message tells which it broke. The personalisation one broke before the first
        # round; the marketing one breaks between them.
        gro = customer(session, "gro")
        for purpose in ("marketing", "personalisation"):
            consent(session, gro, "granted", T0 - timedelta(days=60), purpose)
            consent(session, gro, "withdrawn", T0, purpose)
        early = send(session, gro, T0 + timedelta(days=3), purpose="personalisation")
        world.broken.add(("marketing-stops", "send", early))
        between = send(session, gro, T0 + timedelta(days=30))
        world.broken.add(("marketing-stops", "send", between))
        send(session, gro, T0 + timedelta(days=31), purpose="personalisation")
        # kai set preferences without quiet hours: his messages are no quiet-hours instances.
        kai = customer(session, "kai")
        update_preferences(
            session=session,
            customer_id=kai,
            changes={"time_zone": "Europe/London"},
            method="preference_centre",
            actor=SYSTEM,
            now=T0 - timedelta(days=10),
        )
        send(session, kai, T0 + timedelta(days=30, hours=22))
    data_dir = tmp_path / "data"
    refresh_snapshots(sessions=sessions, data_dir=data_dir)
    local = settings.model_copy(update={"data_dir": data_dir})

    def measure(as_of, force=False):
        return measure_promises(
            sessions=sessions,
            settings=local,
            model=lambda: Model(connect(local, engine_name), data_dir),
            as_of=as_of,
            force=force,
        )

    def stored():
        with sessions() as session:
            breaches = {
                (key, b.evidence_kind, b.evidence_id, b.case_id)
                for key, b in session.execute(select(Promise.key, PromiseBreach).join(Promise))
            }
            days = {
                (d.promise_id, d.day, d.good, d.total) for d in session.scalars(select(PromiseDay))
            }
            weeks = {
                (w.promise_id, w.week, w.good, w.total)
                for w in session.scalars(select(PromiseWeek))
            }
        return breaches, days, weeks

    assert measure(T0 + timedelta(days=6)).incremental == []  # the first: whole
    first = stored()
    assert ("marketing-stops", "send", late) not in {b[:3] for b in first[0]}
    assert ("marketing-stops", "send", between) not in {b[:3] for b in first[0]}
    later = measure(AS_OF)
    assert len(later.incremental) == 8
    incremental = stored()
    assert {b[:3] for b in incremental[0]} == world.broken
    measure(AS_OF, force=True)
    assert stored() == incremental
