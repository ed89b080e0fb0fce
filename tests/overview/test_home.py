"""The staff home counts what the records say: consent per purpose, whom the policy lets a
marketing message reach, messages held by reason, NPS with its interval, cases past their
deadline, data requests due and the most negative themes; and the page says it in plain words."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tillit.audit.service import Actor
from tillit.config import Settings
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.contact.service import decide_for
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.dialogues import catalogue, in_place
from tillit.dialogues.responses import Answer, submit
from tillit.overview.service import build_overview
from tillit.overview.store import (
    MEASURE_EVERY,
    latest_overview,
    measure_overview,
    measure_overview_if_due,
)
from tillit.privacy.data_requests import open_request
from tillit.privacy.models import DataRequestKind
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory
from tillit.storage.snapshots import Snapshot

ACTOR = Actor.system("tests")


def _world(sessions: SessionFactory, settings: Settings, defaults: Defaults) -> None:
    """Three customers: Freja grants marketing and research and answers NPS 3 (a case opens);
    Jens has no consent and is held back; Lotte asks for her data."""
    with sessions() as session:
        people = {}
        for name, email in [
            ("Freja Testesen", "freja@example.com"),
            ("Jens Prøvesen", "jens@example.com"),
            ("Lotte Eksempel", "lotte@example.com"),
        ]:
            people[name] = create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(
                    name=name, locale="da", identities=[IdentityCreate(type="email", value=email)]
                ),
            ).id
        freja = people["Freja Testesen"]
        for purpose in ("marketing", "research"):
            record_consent(
                session=session,
                customer_id=freja,
                purpose_key=purpose,
                decision=ConsentDecision.granted,
                method=Method.form,
                actor=ACTOR,
                evidence=Evidence(),
            )
        decide_for(
            session=session,
            customer_id=people["Jens Prøvesen"],
            purpose="marketing",
            kind="marketing",
            channel="email",
            topic=None,
            settings=settings,
            log=True,
        )
        open_request(
            session=session,
            customer_id=people["Lotte Eksempel"],
            kind=DataRequestKind("access"),
            channel="e-mail",
            actor=ACTOR,
        )
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=freja,
            channel="web",
            question=catalogue.get_question(session=session, key="nps_relationship"),
            trigger="test",
            reason="asked because: test",
        )
        assert issued is not None
        submit(session=session, settings=settings, ask=issued.ask, answer=Answer(score=3))
        session.commit()


def test_the_overview_counts_the_records(sessions, settings, defaults):
    _world(sessions, settings, defaults)
    with sessions() as session:
        now = utcnow()
        overview = build_overview(session=session, settings=settings, now=now)
        later = build_overview(session=session, settings=settings, now=now + timedelta(days=40))
    assert overview.customers == 3
    rates = {rate.key: rate for rate in overview.purposes}
    assert rates["marketing"].granted == 1 and round(rates["marketing"].share, 3) == 0.333
    reach = {r.channel: r.reachable for r in overview.reach}
    assert reach["email"] == 1 and reach["sms"] == 0  # Freja has no phone
    assert overview.messages.held == 1
    assert overview.messages.held_by_reason == [("no_consent", 1)]
    [month] = overview.nps_by_month
    assert month.nps == -100 and month.nps_n == 1 and month.nps_low is not None
    assert overview.cases.open == 1 and overview.cases.breached == 0
    assert later.cases.breached == 1  # past its resolution deadline
    assert overview.requests.open == 1 and overview.requests.overdue == 0
    assert later.requests.overdue == 1


def test_the_home_page_shows_the_tiles_in_plain_words(
    client: TestClient, staff_csrf, sessions, settings, defaults
):
    _world(sessions, settings, defaults)
    page = client.get("/staff")
    assert page.status_code == 200
    text = page.text
    for heading in ("Consent by purpose", "Reachable for offers now", "Messages, last 30 days"):
        assert heading in text
    assert "Offers and news" in text  # the purpose's own title, not its key
    assert "No consent" in text and "no_consent" not in text
    assert "Text message (SMS)" in text
    assert 'role="img"' in text and "NPS" in text  # the chart, inline SVG
    assert 'href="/staff/cases"' in text and 'href="/staff/data-requests"' in text


def test_the_home_page_needs_a_signed_in_staff_member(client: TestClient):
    answer = client.get("/staff", follow_redirects=False)
    assert answer.status_code in (303, 307, 401)


def test_a_kept_overview_reads_back_as_measured_and_is_measured_when_due(
    sessions, settings, defaults
):
    _world(sessions, settings, defaults)
    now = utcnow()
    with sessions() as session, session.begin():
        measured = measure_overview(session=session, settings=settings, now=now)
    with sessions() as session, session.begin():
        assert latest_overview(session=session) == measured
        assert measure_overview_if_due(session=session, settings=settings, now=now) is None
        later = now + MEASURE_EVERY + timedelta(seconds=1)
        assert measure_overview_if_due(session=session, settings=settings, now=later)


def test_the_page_reads_the_kept_overview_and_staff_can_measure_now(
    client: TestClient, staff_csrf, sessions, settings, defaults
):
    def kept() -> int:
        with sessions() as session:
            return session.scalar(
                select(func.count()).select_from(Snapshot).where(Snapshot.kind == "overview")
            )

    _world(sessions, settings, defaults)
    assert client.get("/staff").status_code == 200 and kept() == 1
    assert client.get("/staff").status_code == 200 and kept() == 1  # read, not measured
    measured = client.post(
        "/staff/overview/measure", data={"csrf_token": staff_csrf}, follow_redirects=False
    )
    assert measured.status_code == 303 and kept() == 2
