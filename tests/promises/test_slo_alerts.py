"""Error budget and burn rate (OpenSLO, Sloth/Pyrra semantics), and the alert that fires when a
promise burns its budget too fast: a real e-mail over SMTP and a real webhook POST."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.promises.helpers import T0, build
from tillit.analytics.engine import connect
from tillit.analytics.snapshots import refresh_snapshots
from tillit.analytics.tables import Model
from tillit.config import Settings
from tillit.promises import slo
from tillit.promises.alerts import make_alert
from tillit.promises.store import measure_promises
from tillit.storage.session import SessionFactory


def test_budget_and_burn_rate() -> None:
    today = date(2026, 12, 7)
    days = {today - timedelta(days=n): (99, 100) for n in range(28)}  # exactly on target
    share = slo.window(days, end=today, length=28)
    assert (share.good, share.total) == (2772, 2800)
    assert slo.budget_remaining(share, 0.99) == pytest.approx(0.0)
    assert slo.burn_rate(share, 0.99) == pytest.approx(1.0)
    assert not any(b.firing for b in slo.burns(days, end=today, target=0.99))
    days[today] = (50, 100)  # half broken today: 50 times the allowed rate
    burns = slo.burns(days, end=today, target=0.99)
    assert burns[0].short_rate == pytest.approx(50.0) and burns[0].firing
    assert slo.budget_remaining(slo.Share(0, 0), 0.99) == 1.0
    low, high = slo.Share(9, 10).interval
    assert 0.59 < low < 0.6 and 0.98 < high < 0.99


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_fast_burn_alerts_by_mail_and_webhook_once_a_day(
    sessions: SessionFactory, settings: Settings, tmp_path: Path, smtp_server
) -> None:
    inbox, port = smtp_server
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sessions() as session, session.begin():
        build(session)
    data_dir = tmp_path / "data"
    refresh_snapshots(sessions=sessions, data_dir=data_dir)
    local = settings.model_copy(
        update={
            "data_dir": data_dir,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "promise_alert_email": "cx-lead@example.com",
            "promise_alert_webhook": f"http://127.0.0.1:{server.server_port}/hook",
        }
    )
    # Two days after ida's third e-mail in a week: 1 of 3 capped sends broken, 33 times the rate.
    as_of = T0 + timedelta(days=4)
    try:
        first = measure_promises(
            sessions=sessions,
            settings=local,
            model=lambda: Model(connect(local, "duckdb"), data_dir),
            as_of=as_of,
            alert=make_alert(local),
        )
        again = measure_promises(
            sessions=sessions,
            settings=local,
            model=lambda: Model(connect(local, "duckdb"), data_dir),
            as_of=as_of,
            force=True,
            alert=make_alert(local),
        )
    finally:
        server.shutdown()
    assert "message-caps" in first.alerts and again.alerts == []
    subjects = [m for m in inbox.messages if b"Promise at risk: message-caps" in m]
    assert len(subjects) == 1 and b"cx-lead@example.com" in subjects[0]
    hooks = [h for h in _Hook.received if h["promise"] == "message-caps"]
    assert len(hooks) == 1 and hooks[0]["burns"]
