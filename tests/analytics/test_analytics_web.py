"""The analytics faces over HTTP: goals, funnels and cohorts as staff pages (SVG chart or
heat-map, CSV) and as API answers; problems for definitions that cannot be answered; a funnel's
drop-outs saved as a segment from the page and from the API, whose membership is exactly the
people who dropped out there. On DuckDB over a demo-like shop lake."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.analytics.shop_lake import STEPS, write_shop_lake
from tillit.analytics import reports
from tillit.analytics.engine import connect
from tillit.analytics.goal_store import define_goal
from tillit.analytics.models import SegmentMember
from tillit.analytics.segment_store import compute, find_segment, validate_definition
from tillit.analytics.tables import Model
from tillit.audit.service import Actor
from tillit.config import Settings

FUNNEL = {"steps": [{"event": s} for s in STEPS], "mode": "ordered"}


def _setup(sessions, settings: Settings) -> None:
    reports.clear_cache()
    write_shop_lake(settings.data_dir)
    with sessions() as session, session.begin():
        define_goal(
            session=session,
            key="orders",
            name="Orders",
            event="Order Completed",
            value_property="revenue",
            actor=Actor.system("test"),
        )
        define_goal(
            session=session, key="signups", name="Sign-ups", kind="signup", actor=Actor.system("t")
        )


def test_the_analytics_api(client, token_for, sessions, settings: Settings):
    _setup(sessions, settings)
    headers = {"Authorization": f"Bearer {token_for('analytics:read', 'segments:write')}"}

    funnel = client.post("/api/v1/analytics/funnel", json=FUNNEL, headers=headers)
    assert funnel.status_code == 200, funnel.text
    total = [r for r in funnel.json() if r["channel"] == "(all)"]
    assert [r["people"] for r in total] == [300, 178, 92, 59]
    assert total[3]["dropped"] == 33 and total[1]["median_seconds_from_previous"] > 0

    bad = client.post(
        "/api/v1/analytics/funnel",
        json={"steps": [{"event": "A", "within_seconds": 60}, {"event": "B"}], "mode": "any"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "per-step window needs ordered steps" in bad.json()["detail"]
    one = client.post("/api/v1/analytics/funnel", json={"steps": [{"event": "A"}]}, headers=headers)
    assert one.status_code == 422 and "steps" in one.text
    # Found by the API fuzz test (each was a 500): the same step twice in any order, and a
    # property name the engines' JSON path cannot hold.
    twice = {"steps": [{"event": "A"}, {"event": "A"}], "mode": "any"}
    again = client.post("/api/v1/analytics/funnel", json=twice, headers=headers)
    assert again.status_code == 422 and "step 2 repeats an earlier step" in again.text
    for name in ("'", "", "a b"):
        steps = [{"event": "A"}, {"event": "B", "filters": {name: "x"}}]
        quoted = client.post("/api/v1/analytics/funnel", json={"steps": steps}, headers=headers)
        assert quoted.status_code == 422, (name, quoted.text)
        assert "steps.2.filters" in quoted.text

    goals = client.get("/api/v1/analytics/goals?goal=orders", headers=headers).json()
    web = {r["channel"]: r for r in goals["orders"]}["web"]
    assert web["people_converted"] > 0 and web["rate_low"] < web["rate"] < web["rate_high"]
    by_country = client.get("/api/v1/analytics/goals?by=country", headers=headers).json()
    assert {r["group"] for r in by_country["orders"]} == {"DK", "SE", "NO", "NL", "GB"}
    assert sum(r["people_converted"] for r in by_country["orders"]) == 59
    missing = client.get("/api/v1/analytics/goals?goal=nope", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    zodiac = client.get("/api/v1/analytics/goals?by=zodiac", headers=headers)
    assert zodiac.status_code == 422

    cohorts = client.get("/api/v1/analytics/cohorts", headers=headers).json()
    first = [r for r in cohorts if r["cohort"] == "2026-09-07"]
    assert first[0]["period"] == 0 and first[0]["share"] == 1.0 and len(first) >= 8

    dropped = client.post(
        "/api/v1/analytics/funnel/dropped",
        json={**FUNNEL, "dropped_at": 4, "key": "no-order", "name": "No order", "purpose": "x"},
        headers=headers,
    )
    assert dropped.status_code == 422 and "purpose" in dropped.text
    dropped = client.post(
        "/api/v1/analytics/funnel/dropped",
        json={**FUNNEL, "dropped_at": 4, "key": "no-order", "name": "No order"}
        | {"purpose": "marketing"},
        headers=headers,
    )
    assert dropped.status_code == 201, dropped.text
    assert dropped.json()["definition"]["kind"] == "funnel_dropped"
    with sessions() as session:
        segment = find_segment(session, "no-order")
        assert segment is not None
        rule = validate_definition(session, dropped.json()["definition"])
        model = Model(connect(settings, "duckdb"), settings.data_dir)
        from tillit.storage.base import utcnow

        members, left_out = compute(session, model, rule, "marketing", utcnow())
        # Nobody has consented to marketing in this lake: all 33 are matched and left out.
        assert (len(members), left_out) == (0, 33)
        assert session.scalars(select(SegmentMember)).all() == []
    again = client.post(
        "/api/v1/analytics/funnel/dropped",
        json={**FUNNEL, "dropped_at": 4, "key": "no-order", "name": "x", "purpose": "marketing"},
        headers=headers,
    )
    assert again.status_code == 409


def test_the_staff_pages(client, staff_as, sessions, settings: Settings):
    _setup(sessions, settings)
    _user, csrf = staff_as("analyst")

    goals = client.get("/staff/analytics/goals")
    assert goals.status_code == 200
    assert "<svg" in goals.text and "Orders" in goals.text and "Signed up" in goals.text
    assert 'href="/staff/analytics/goals" aria-current="page"' in goals.text
    weeks = client.get("/staff/analytics/goals?by=week")
    assert "Week of 2026-09-07" in weeks.text
    table = list(csv.reader(io.StringIO(client.get("/staff/analytics/goals.csv?by=country").text)))
    assert table[0][:3] == ["goal", "country", "people_met"] and len(table) > 5

    # No steps asked: the shop's funnel, found in the lake.
    funnel = client.get("/staff/analytics/funnels")
    assert funnel.status_code == 200
    assert "Checkout Started" in funnel.text and "<svg" in funnel.text
    assert "−33 dropped" in funnel.text  # before the order
    more = client.get("/staff/analytics/funnels?step=Product+Viewed&step=Order+Completed&more=1")
    assert 'id="step-3"' in more.text and 'id="step-4"' not in more.text
    wrong = client.get("/staff/analytics/funnels?step=A&step=B&mode=ordered&within=soon")
    assert wrong.status_code == 422 and "is not a window" in wrong.text
    funnel_csv = client.get("/staff/analytics/funnels.csv?step=Product+Viewed&step=Product+Added")
    assert funnel_csv.text.splitlines()[2].startswith("(all),2,Product Added,178,")

    saved = client.post(
        "/staff/analytics/funnels/dropped",
        data={
            "csrf_token": csrf,
            "step": list(STEPS),
            "dropped_at": "2",
            "key": "browsed-only",
            "name": "Browsed only",
            "purpose": "marketing",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "saved=browsed-only" in saved.headers["location"]
    with sessions() as session:
        assert find_segment(session, "browsed-only") is not None
    twice = client.post(
        "/staff/analytics/funnels/dropped",
        data={"csrf_token": csrf, "step": list(STEPS), "dropped_at": "2"}
        | {"key": "browsed-only", "name": "B", "purpose": "marketing"},
        follow_redirects=False,
    )
    assert "exists+already" in twice.headers["location"]

    cohorts = client.get("/staff/analytics/cohorts")
    assert cohorts.status_code == 200 and "heat-5" in cohorts.text and "2026-09-07" in cohorts.text
    months = client.get("/staff/analytics/cohorts.csv?period=month")
    assert months.text.startswith("cohort,period,size,eligible,people,share")


def test_the_segment_builder_without_javascript(client, staff_as, sessions, settings: Settings):
    from tillit.analytics.segment_store import definition_of, get_segment

    _user, csrf = staff_as("analyst")
    page = client.get("/staff/segments")
    assert 'action="/staff/segments/builder"' in page.text and 'id="rule-2-kind"' not in page.text
    head = page.text.split("</head>")[0]
    assert "<form" not in head and page.text.count('action="/staff/segments/builder"') == 1
    base = {"csrf_token": csrf, "key": "loyal", "name": "Loyal, not Danish", "purpose": "marketing"}
    first = {"rule_kind": ["events"], "rule_value": ["Order Completed"]}
    added = client.post(
        "/staff/segments/builder",
        data={**base, **first, "rule_at_least": ["2"], "rule_days": ["90"], "action": "add"},
    )
    assert added.status_code == 200
    assert 'id="rule-2-kind"' in added.text and 'value="Order Completed"' in added.text

    rows = {
        "rule_kind": ["events", "country"],
        "rule_value": ["Order Completed", "dk"],
        "rule_days": ["90", ""],
    }
    wrong = client.post(
        "/staff/segments/builder",
        data={**base, **rows, "rule_at_least": ["0", ""], "action": "save"},
    )
    assert wrong.status_code == 422 and "Rule 1, at least" in wrong.text
    assert 'value="Order Completed"' in wrong.text  # what was written stays
    saved = client.post(
        "/staff/segments/builder",
        data={**base, **rows, "rule_at_least": ["2", ""], "combine": "all", "action": "save"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    with sessions() as session:
        segment = get_segment(session, "loyal")
        assert definition_of(session, segment) == {
            "kind": "all",
            "rules": [
                {"kind": "events", "event": "Order Completed", "at_least": 2, "within_days": 90},
                {"kind": "country", "countries": ["DK"]},
            ],
        }
    none = client.post(
        "/staff/segments/builder",
        data={**base, **rows, "rule_at_least": ["2", ""], "combine": "none", "action": "save"},
        follow_redirects=False,
    )
    assert none.status_code == 303
    with sessions() as session:
        segment = get_segment(session, "loyal")
        assert segment.current_version == 2
        assert definition_of(session, segment)["kind"] == "not"
    shown = client.get("/staff/segments?saved=loyal")
    assert "Segment loyal saved" in shown.text and "Loyal, not Danish" in shown.text


def test_the_jobs_warm_the_pages_and_the_answers_outlive_the_process(
    client, staff_as, sessions, settings: Settings, monkeypatch
):
    """After warm() (the jobs process's analytics round) a web worker that has computed
    nothing answers the default pages from the disk cache; new lake files make it compute."""
    _setup(sessions, settings)
    assert reports.warm(settings, sessions) == 1
    reports.clear_cache()  # as a fresh web worker

    def no_engine(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(reports, "connect", no_engine)
    staff_as("analyst")
    assert "−33 dropped" in client.get("/staff/analytics/funnels").text
    assert "Orders" in client.get("/staff/analytics/goals").text
    assert "2026-09-07" in client.get("/staff/analytics/cohorts").text
    write_shop_lake(settings.data_dir, people=301)  # the lake changed: its mark moves
    with pytest.raises(AssertionError, match="computed again"):
        client.get("/staff/analytics/cohorts")
