"""The closed loop in real Chromium against the real server (`tillit serve`): a Swedish
customer answers NPS 3 with a comment, an agent resolves the case, the customer is asked
"did we solve it?", and nothing more within the cool-down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tillit.audit.service import Actor
from tillit.config import load_settings
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.dialogues import catalogue, in_place, profiling
from tillit.staff import service as staff
from tillit.storage import make_engine, make_session_factory, upgrade

pytestmark = pytest.mark.browser
SECRET = "dialogue-browser-secret-key-0123456789abcdef"
ACTOR = Actor.system("tests")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'tillit.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "TILLIT_DATABASE_URL": url,
        "TILLIT_DATA_DIR": str(tmp_path),
        "TILLIT_SECRET_KEY": SECRET,
        "TILLIT_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("tillit")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz").status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_unhappy_swede_gets_a_case_and_a_recovery_question(server, browser):
    base, url = server
    settings = load_settings(database_url=url, secret_key=SECRET, base_url=base)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        customer = create_customer(
            session=session,
            actor=ACTOR,
            defaults=Defaults(country="SE", language="sv", time_zone="Europe/Stockholm"),
            data=CustomerCreate(
                name="Sven Testsson",
                locale="sv",
                identities=[IdentityCreate(type="email", value="sven@example.com")],
            ),
        )
        record_consent(
            session=session,
            customer_id=customer.id,
            purpose_key="research",
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=ACTOR,
            evidence=Evidence(),
        )
        issued = in_place.ask_in_place(
            session=session,
            settings=settings,
            customer_id=customer.id,
            channel="web",
            question=catalogue.get_question(session=session, key="nps_relationship"),
            trigger="test",
            reason="asked because: test",
        )
        assert issued is not None
        staff.create_user(
            session=session,
            email="agent@example.com",
            name="Agnes Agent",
            role="admin",
            password="a-long-browser-password",
            actor=ACTOR,
        )
        session.commit()
        customer_id, token = customer.id, issued.token

    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    try:
        page.goto(f"{base}/d/{token}")
        assert page.locator("html").get_attribute("lang") == "sv"
        page.get_by_text("Hur troligt är det att du skulle rekommendera oss").wait_for()
        page.locator("input[name=score][value='3']").check()
        page.locator("textarea[name=follow_up]").fill("Leveransen kom en vecka för sent.")
        page.get_by_role("button", name="Skicka svar").click()
        page.get_by_text("Tack för ditt svar").wait_for()
        page.get_by_text("Vi har tagit emot det").wait_for()  # the case, in Swedish

        page.goto(f"{base}/staff/cases")
        page.get_by_label("E-mail").fill("agent@example.com")
        page.get_by_label("Password").fill("a-long-browser-password")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/staff/cases")
        row = page.locator("tr.case-row").first
        assert "NPS score of 6 or less" in row.inner_text() and "high" in row.inner_text()
        row.get_by_role("link").first.click()
        page.get_by_text("Leveransen kom en vecka för sent.").wait_for()
        page.get_by_label("Reply to the customer").fill("Förlåt! Vi har skickat en ny.")
        page.get_by_role("button", name="Send reply").click()
        page.get_by_role("button", name="Resolve").click()
        page.get_by_text("resolved").first.wait_for()

        page.goto(f"{base}/d/{token}")
        page.get_by_text("Förlåt! Vi har skickat en ny.").wait_for()
        page.get_by_text("Löste vi det?").wait_for()
        page.locator("input[name=choices][value='yes']").check()
        page.get_by_role("button", name="Skicka svar").click()
        page.get_by_text("Tack för ditt svar").wait_for()
        assert page.get_by_text("Löste vi det?").count() == 0
    finally:
        context.close()

    with sessions() as session:  # not asked again within the cool-down
        assert (
            profiling.next_question(
                session=session, settings=settings, customer_id=customer_id, channel="web"
            )
            is None
        )
    engine.dispose()
