"""``send_time: best_hour``: a message goes at the local hour at which the customer engages most,
learned from their own events of the last 90 days in their own time zone (daylight saving
included), still inside their window: quiet hours move it to their end; no events, no change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
from sqlalchemy import select

from tillit.campaigns import send_time, service
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.models import CampaignMessage
from tillit.contact import clock

from .helpers import ACTOR, customer, definition, segment, views
from .test_editor import FORM

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 13:00 in Amsterdam (CET, UTC+1)
AMSTERDAM = "Europe/Amsterdam"
# 19:00 in Amsterdam three times in October (CEST, UTC+2) and twice in November (CET, UTC+1);
# 18:00 twice in November. Read with one fixed offset, 18:00 would win.
EVENINGS = [
    datetime(2026, 10, 6, 17, 0, tzinfo=UTC),
    datetime(2026, 10, 13, 17, 0, tzinfo=UTC),
    datetime(2026, 10, 20, 17, 5, tzinfo=UTC),
    datetime(2026, 11, 10, 18, 0, tzinfo=UTC),
    datetime(2026, 11, 17, 18, 30, tzinfo=UTC),
    datetime(2026, 11, 18, 17, 10, tzinfo=UTC),
    datetime(2026, 11, 19, 17, 20, tzinfo=UTC),
]


def _hours(events: dict[int, list[datetime]], zones: list[str]) -> list[int]:
    codes, names = send_time.zone_codes(pa.array(zones))
    rows = [row for row, instants in events.items() for _ in instants]
    instants = [clock.to_us(at) for found in events.values() for at in found]
    return send_time.best_hours(
        rows=np.array(rows, np.int64),
        timestamps_us=np.array(instants, np.int64),
        zones=codes,
        zone_names=names,
    ).tolist()


def test_the_best_hour_is_the_mode_of_local_hours_across_daylight_saving():
    long_ago_tie = [
        datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
    ]
    assert _hours({0: EVENINGS, 2: long_ago_tie}, [AMSTERDAM, AMSTERDAM, "UTC"]) == [19, -1, 6]
    # The same instants read in New York are 13:00 and 12:00 or 11:00 there.
    assert _hours({0: EVENINGS}, ["America/New_York"]) == [13]


def test_the_next_best_hour_is_today_or_tomorrow_in_the_customers_zone():
    assert send_time.next_local_hour(NOW, AMSTERDAM, 19) == datetime(2026, 12, 2, 18, tzinfo=UTC)
    assert send_time.next_local_hour(NOW, AMSTERDAM, 9) == datetime(2026, 12, 3, 8, tzinfo=UTC)
    assert send_time.next_local_hour(NOW, AMSTERDAM, 13) == NOW  # now is that hour
    # 02:00 does not exist in Amsterdam on 29 March 2026: the clock jumps to 03:00 CEST.
    spring = send_time.next_local_hour(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), AMSTERDAM, 2)
    assert spring.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def _at(sessions, customer_id: int, when: datetime) -> None:
    views(sessions, customer_id, "any", 1, when + timedelta(hours=1), name="Page Viewed")


def test_a_customer_whose_events_cluster_at_19_is_planned_for_19_local(
    sessions, defaults, settings
):
    def dutch(name: str, **preferences) -> int:
        return customer(
            sessions,
            defaults,
            name=name,
            locale="nl-NL",
            zone=AMSTERDAM,
            preferences={"topics": ["offers"], **preferences},
        )

    evening = dutch("Nina de Vries")
    night_owl = dutch("Sem Bakker", quiet_hours={"start": "22:00", "end": "07:00"})
    quiet = dutch("Lotte Jansen")
    for when in EVENINGS:
        _at(sessions, evening, when)
    for day in (3, 10, 17):  # 23:00 in Amsterdam, inside his quiet hours
        _at(sessions, night_owl, datetime(2026, 11, day, 22, 0, tzinfo=UTC))
    _at(sessions, quiet, NOW - timedelta(days=120))  # too long ago to count
    segment(sessions, [evening, night_owl, quiet])
    with sessions() as session, session.begin():
        service.create_campaign(
            session=session,
            definition=parse_definition(
                definition(send_time="best_hour", relevance={"enabled": False})
            ),
            actor=ACTOR,
        )
        service.approve_campaign(session=session, key="spring-shoes", actor=ACTOR)
    with sessions() as session, session.begin():
        report = service.plan_campaign(
            session=session, settings=settings, key="spring-shoes", actor=ACTOR, now=NOW
        )
    assert report.scheduled == 3, report
    with sessions() as session:
        planned = dict(
            session.execute(select(CampaignMessage.customer_id, CampaignMessage.not_before)).all()
        )
    assert planned[evening] == datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # 19:00 in Amsterdam
    assert planned[night_owl] == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # his quiet hours end
    assert planned[quiet] == NOW  # no events in 90 days: as soon as the window allows


def test_the_editor_and_the_page_say_the_send_time(client, sessions, staff_as):
    segment(sessions, [])
    _, csrf = staff_as("analyst")
    made = client.post(
        "/staff/campaigns",
        data={**FORM, "csrf_token": csrf, "send_time": "best_hour"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get("/staff/campaigns/autumn-walks")
    assert "At the hour each customer engages most" in page.text
    wrong = client.post(
        "/staff/campaigns", data={**FORM, "key": "other", "csrf_token": csrf, "send_time": "noon"}
    )
    assert wrong.status_code == 422
    assert "send_time:" in wrong.text
