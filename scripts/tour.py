"""Make docs/tour.md and its screenshots from a freshly simulated demo, driven in Chromium, so
the tour always shows what the product really does.

Run:  .venv/bin/python scripts/tour.py      (needs Debian's chromium; takes about a minute)
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/server.py
from tests.server import running_server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "tour"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]

# (file, path, title, what it shows); {customer} is a Danish customer seen on three channels.
STOPS = [
    (
        "overview",
        "/staff",
        "The overview",
        "Where staff land after signing in: consent per purpose, whom the contact policy lets an "
        "offer reach on each channel, messages sent and held back (by reason, in words), NPS by "
        "month with its interval, cases past their deadline, data requests due, negative themes.",
    ),
    (
        "customer",
        "/staff/customers/{customer}",
        "One customer",
        "Their profile and identities, every change in the audit in words, and two ways to help "
        "them: open their own preference centre, or e-mail them its link.",
    ),
    (
        "timeline",
        "/staff/customers/{customer}/timeline",
        "One person across channels",
        "Web shop, app, store and e-mail events stitched into one timeline.",
    ),
    (
        "metrics",
        "/staff/dialogues/metrics",
        "Dialogue metrics",
        "NPS, CSAT and CES from the customers' own answers, with 95 % intervals.",
    ),
    (
        "cases",
        "/staff/cases",
        "Cases and their SLA",
        "Complaints and low scores open cases; those past their deadline are marked.",
    ),
    (
        "matches",
        "/staff/matches",
        "Probably the same person",
        "Store and web-shop records without a shared key, matched with Splink, field by field.",
    ),
    (
        "quality",
        "/staff/quality",
        "Data quality",
        "Eight dimensions per source and field, measured by the jobs process.",
    ),
    (
        "themes",
        "/staff/insight",
        "What customers talk about",
        "Themes across five languages, with their sentiment and trend.",
    ),
]


def simulate(data_dir: Path, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "tillit", "demo", "--no-serve", "--customers", "400"]
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        command, env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL
    )


def danish_customer(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "tillit.db") as db:
        row = db.execute(
            "SELECT c.id FROM customer c JOIN event e ON e.customer_id = c.id "
            "WHERE c.locale LIKE 'da%' AND c.status = 'active' "
            "GROUP BY c.id HAVING count(DISTINCT e.channel) >= 3 ORDER BY c.id LIMIT 1"
        ).fetchone()
    return int(row[0])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tillit-tour-") as folder:
        data_dir = Path(folder)
        env = {
            "TILLIT_DATA_DIR": str(data_dir),
            "TILLIT_DATABASE_URL": "",
            "TILLIT_JOBS_INTERVAL_SECONDS": "0",
            "TILLIT_COMPANY_NAME": "Nordlys Handel",
        }
        simulate(data_dir, env)
        customer = danish_customer(data_dir)
        link = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-m", "tillit", "links", "create", str(customer)],
            env={**os.environ, **env, "TILLIT_BASE_URL": "http://127.0.0.1"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        token = re.search(r"/p/(\S+)", link)[1]  # type: ignore[index]
        with running_server(env=env) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/staff/login")
            page.get_by_label("E-mail").fill("admin@example.com")
            page.get_by_label("Password").fill((data_dir / "demo-login.txt").read_text().strip())
            page.get_by_role("button", name="Sign in").click()
            shots = []
            for name, path, title, text in STOPS:
                page.goto(url + path.format(customer=customer))
                page.screenshot(path=str(OUT / f"{name}.png"))
                shots.append((name, title, text))
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(f"{url}/p/{token}")
            phone.screenshot(path=str(OUT / "centre-phone.png"), full_page=False)
            shots.append(
                ("centre-phone", "The customer's own preference centre, on a phone",
                 "In their language and the company's brand: what we may do, on which channels "
                 "and how often, quiet hours, a pause, their data to take or delete.")
            )  # fmt: skip
            browser.close()
    write_tour(shots)


def write_tour(shots: list[tuple[str, str, str]]) -> None:
    lines = [
        "# A tour of Tillit",
        "",
        "Made by `scripts/tour.py` from a freshly simulated demo (`tillit demo`, 400 people over a",
        "year), driven in Chromium: run it again and the pictures follow the product.",
        "",
    ]
    for name, title, text in shots:
        lines += [f"## {title}", "", text, "", f"![{title}](tour/{name}.png)", ""]
    (ROOT / "docs" / "tour.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
