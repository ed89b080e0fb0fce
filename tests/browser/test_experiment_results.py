"""The demo's running experiment, after one jobs round has exported the lake: its results page
shows intervals for every metric (the primary goal, the secondary one and each of the
customer's guardrails), the effect over time and a verdict, at 1280 and 390 px, with no serious
axe-core violation and no sideways scrolling; the CSV downloads. And the demo's harmful
experiment: that same jobs round stopped it, and its page says so and names the guardrail the
simulation's truth says the harm shows in."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import expect
from tests.browser.axe import scrolls_sideways, serious_violations
from tests.server import running_server

from tillit.demo.simulation.acts import message_frequency
from tillit.experiments.metrics import CUSTOMER_GUARDRAILS

KEY = "checkout-copy"
HARMFUL = message_frequency.KEY
GOALS = ("Completed orders", "Revenue")
# The customer's guardrails: in a small demo some have no occurrence in 14 days after anyone's
# exposure (nobody unsubscribed, nobody answered NPS); the page then says so in words.
GUARDRAILS = (
    "Unsubscribes",
    "Consent withdrawals",
    "Complaints (cases opened)",
    "Negative feedback",
    "NPS",
)
NO_DATA = re.compile(r"^(None in either variant yet|Not enough people yet)\.$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A small simulated year on SQLite of its own, then one jobs round (the lake, the
    snapshots, the experiments' check), then the server."""
    data_dir = tmp_path_factory.mktemp("experiment-demo")
    env = {
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_DATABASE_URL": "",
        "TILLIT_ENV": "development",
        "TILLIT_JOBS_INTERVAL_SECONDS": "0",
    }

    def tillit(*args: str, **more: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "tillit", *args],
            env={**os.environ, **env, **more},
            check=True,
            capture_output=True,
            timeout=600,
        )

    tillit("demo", "--no-serve", "--customers", "300", "--days", "60")
    # One round, after the lake's settling time has passed for the demo's last events.
    tillit("jobs", "run", "--rounds", "1", TILLIT_JOBS_INTERVAL_SECONDS="12")
    with running_server(env=env, log_path=data_dir / "server.log") as url:
        yield url, data_dir


def _sign_in(page, url: str, data_dir: Path) -> None:
    page.goto(f"{url}/staff/login")
    page.get_by_label("E-mail").fill("admin@example.com")
    page.get_by_label("Password").fill((data_dir / "demo-login.txt").read_text().strip())
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_demo_experiment_shows_intervals_for_every_metric(demo, browser, width, tmp_path):
    url, data_dir = demo
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        _sign_in(page, url, data_dir)
        page.goto(f"{url}/staff/experiments")
        page.get_by_role("link", name="See the results of Checkout button copy").click()
        expect(page).to_have_url(f"{url}/staff/experiments/{KEY}")
        expect(page.get_by_role("heading", name="Checkout button copy", level=1)).to_be_visible()
        expect(page.get_by_role("heading", name="Verdict")).to_be_visible()
        verdict = page.locator("#verdict + p").inner_text()
        assert "Variant “Pay now”" in verdict, verdict
        people = page.locator("table.data").first.locator("tbody td.num:nth-child(3)")
        counts = [int(c.replace(",", "")) for c in people.all_inner_texts()]
        assert len(counts) == 2 and min(counts) > 5, counts
        shots = Path(os.environ.get("TILLIT_SCREENSHOTS", str(tmp_path)))
        page.screenshot(path=str(shots / f"experiment-results-{width}.png"), full_page=True)
        with_intervals = 0
        for name in GOALS + GUARDRAILS:
            section = page.locator("section.card").filter(
                has=page.get_by_role("heading", name=name)
            )
            if name in GUARDRAILS and section.get_by_text(NO_DATA).count():
                continue
            expect(section.locator("svg.intervals[role=img]")).to_be_visible()
            expect(section.locator("svg.intervals rect.seq")).to_have_count(1)
            expect(section.locator("tbody td", has_text=" to ").first).to_be_visible()
            with_intervals += 1
        # The goals and at least one guardrail: which guardrails have data in a small demo
        # depends on the day it ends on (the CI run of 2026-12-07 had one).
        assert with_intervals >= len(GOALS) + 1
        expect(page.locator("svg.over-time[role=img]")).to_be_visible()
        assert scrolls_sideways(page) == 0
        assert serious_violations(page) == []
        if width == 1280:
            with page.expect_download() as download:
                page.get_by_role("link", name="Download the results (CSV)").click()
            rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
            assert {r["metric_name"] for r in rows} == set(GOALS + GUARDRAILS)
            assert all(r["sequential_ci_low"] != "" for r in rows if r["metric_name"] in GOALS)
    finally:
        context.close()


def _harm_told(data_dir: Path) -> set[str]:
    """The guardrails the truth file says the harmful experiment moved."""
    truth = (data_dir / "demo" / "truth.jsonl").read_bytes().splitlines()
    prefix = f"guardrail:{HARMFUL}:"
    return {
        name.removeprefix(prefix)
        for person in map(orjson.loads, truth)
        for name in person.get("injected", {})
        if name.startswith(prefix)
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_the_harmful_experiment_was_stopped_by_its_guardrail_and_says_which(
    demo, browser, width, tmp_path
):
    url, data_dir = demo
    told = _harm_told(data_dir)
    assert len(told) == 1
    label = next(m.label for m in CUSTOMER_GUARDRAILS if m.key in told)
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        _sign_in(page, url, data_dir)
        page.goto(f"{url}/staff/experiments")
        page.get_by_role("link", name="See the results of How often we write").click()
        expect(page).to_have_url(f"{url}/staff/experiments/{HARMFUL}")
        heading = page.get_by_role("heading", name="How often we write", level=1)
        expect(heading).to_contain_text("Stopped")
        stop = page.locator("section.card").filter(
            has=page.get_by_role("heading", name="Stopped by its guardrail")
        )
        expect(stop).to_be_visible()
        said = stop.locator("p.alert").inner_text()
        assert said.startswith(
            f"Stopped by itself: its guardrail {label} showed harm to the customer in variant "
            "“Every day”: +"
        ), said
        assert "percentage points (always-valid 95 % interval +" in said, said
        expect(stop).to_contain_text("by experiment guardrail")
        # The guardrail's own card marks the harmful variant.
        card = page.locator("section.card").filter(has=page.get_by_role("heading", name=label))
        expect(card.locator("tr.harmed")).to_contain_text("harms the customer")
        shots = Path(os.environ.get("TILLIT_SCREENSHOTS", str(tmp_path)))
        page.screenshot(path=str(shots / f"experiment-stopped-{width}.png"), full_page=True)
        assert serious_violations(page) == []
        assert scrolls_sideways(page) == 0
    finally:
        context.close()
