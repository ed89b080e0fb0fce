"""The widget embedded on another site, in real Chromium, under that site's strict CSP."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from tests.server import free_port, running_server
from tillit.audit.service import Actor
from tillit.consent.evidence import Evidence
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.dialogues.models import Response
from tillit.dialogues.widget import widget_token
from tillit.storage import make_engine, make_session_factory, upgrade

SECRET = "widget-browser-secret-key-0123456789abcdef"
HOST_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'self'; script-src {tillit}; connect-src {tillit}; style-src 'self'">
<title>Butikken</title></head>
<body><h1>Tak for din ordre</h1>
<div data-tillit-dialogue data-token="{token}" data-lang="da"></div>
<script src="{tillit}/static/tillit-dialogue.js" defer></script>
</body></html>
"""


def test_a_shop_page_shows_the_question_and_sends_the_answer(browser, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'tillit.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        customer = create_customer(
            session=session,
            actor=Actor.system("tests"),
            defaults=Defaults(country="DK", language="da", time_zone="Europe/Copenhagen"),
            data=CustomerCreate(
                locale="da-DK",
                identities=[IdentityCreate(type="email", value="widget.browser@example.com")],
            ),
        )
        record_consent(
            session=session,
            customer_id=customer.id,
            purpose_key="research",
            decision=ConsentDecision.granted,
            method=Method.form,
            actor=Actor.system("t"),
            channel="web",
            evidence=Evidence(),
        )
        customer_id = customer.id
    shop_port = free_port()
    shop_origin = f"http://127.0.0.1:{shop_port}"
    site = tmp_path / "shop"
    site.mkdir()
    env = {
        "TILLIT_DATABASE_URL": url,
        "TILLIT_DATA_DIR": str(tmp_path),
        "TILLIT_SECRET_KEY": SECRET,
        "TILLIT_WIDGET_ORIGINS": shop_origin,
    }
    with running_server(env=env, log_path=tmp_path / "server.log") as tillit:
        (site / "index.html").write_text(
            HOST_PAGE.format(tillit=tillit, token=widget_token(customer_id, SECRET)),
            encoding="utf-8",
        )
        handler = partial(SimpleHTTPRequestHandler, directory=str(site))
        shop = ThreadingHTTPServer(("127.0.0.1", shop_port), handler)
        threading.Thread(target=shop.serve_forever, daemon=True).start()
        context = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            violations: list[str] = []
            page.on(
                "console",
                lambda message: (
                    violations.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.goto(f"{shop_origin}/index.html")
            form = page.locator("form.dialogue-widget")
            form.wait_for()
            if form.locator("input[name=score]").count():
                form.locator("input[name=score]").last.check()
            elif form.locator("input[name=choices]").count():
                form.locator("input[name=choices]").first.check()
            if form.locator("textarea[name=text]").count():
                form.locator("textarea[name=text]").fill("Flere økologiske varer, tak")
            form.get_by_role("button", name="Send svar").click()  # the Danish label
            page.get_by_text("\u2713").wait_for()
            assert not violations, violations
        finally:
            context.close()
            shop.shutdown()
            shop.server_close()
    with sessions() as session:
        answers = list(session.scalars(select(Response).where(Response.customer_id == customer_id)))
    assert len(answers) == 1 and answers[0].channel == "widget" and answers[0].language == "da"
    engine.dispose()
