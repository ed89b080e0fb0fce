"""Every staff page of the demo, timed as a staff member loads it.

For each size: `tillit demo --no-serve --customers N [--days D]` into a fresh data directory
(its time to ready is printed), then `tillit serve` with the jobs process off, a sign-in as the
demo admin, and each staff page loaded --loads times (one warm-up first). Prints each page's
median and p95 in milliseconds, the target (300 ms p95), and the ratio of its p95 to /healthz's
p95 in the same run, the baseline that tells this machine's speed from the page's own cost.

A size is N or N:DAYS, DAYS at least 30 as `tillit demo` allows (a shorter simulated year:
100,000 people over a full year take hours on two cores). With --keep DIR each demo is built once in DIR/N-DAYS and reused by later runs
(its simulation time is then read from the demo's own record).

Run:  python benchmarks/staff_pages.py [--sizes 1000,100000:30] [--loads 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tillit.demo.simulation.options import DEFAULT_DAYS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/server.py
from tests.server import running_server

TARGET_MS = 300
PAGES = [
    "/staff",
    "/staff/customers",
    "/staff/customers?q=example.com",
    "/staff/customers/{customer}",
    "/staff/customers/{customer}/timeline",
    "/staff/consent",
    "/staff/consent/customers/{customer}",
    "/staff/data-requests",
    "/staff/dialogues",
    "/staff/dialogues/responses",
    "/staff/dialogues/metrics",
    "/staff/cases",
    "/staff/cases/{case}",
    "/staff/matches",
    "/staff/imports",
    "/staff/quality",
    "/staff/insight",
    "/staff/insight/comments",
    # Analytics: the warm-up computes over the Parquet files; the timed loads are then answered
    # from the cache kept by the data's mark (tillit.analytics.reports), until the lake changes.
    "/staff/analytics/goals",
    "/staff/analytics/funnels",
    "/staff/analytics/cohorts",
    "/staff/segments",
    "/staff/experiments",
    "/staff/experiments/{experiment}",
    "/staff/campaigns",
    "/staff/campaigns/{campaign}",
    "/staff/promises",
    "/staff/promises/{promise}",
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(client: httpx.Client, path: str, loads: int) -> list[float]:
    # Warm-up: templates compiled, caches filled, and a page that reads what the jobs process
    # measures (quality, overview, consent rates) measures it once, as the jobs process would.
    client.get(path, timeout=1800)
    times = []
    for _ in range(loads):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")
    return times


def sign_in(client: httpx.Client, data_dir: Path) -> None:
    password = (data_dir / "demo-login.txt").read_text().strip()
    form = client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "the login form has no CSRF token"
    answer = client.post(
        "/staff/login",
        data={"email": "admin@example.com", "password": password, "csrf_token": token[1]},
    )
    if "/staff/login" in str(answer.url):
        raise RuntimeError("the demo admin could not sign in")


def first_link(client: httpx.Client, listing: str) -> str:
    """The first item a listing page links to (a customer, a case, a campaign ...)."""
    found = re.search(rf'href="{listing}/([^"/?#]+)"', client.get(listing).text)
    if not found:
        raise RuntimeError(f"{listing} links to nothing to open")
    return found[1]


def page_items(client: httpx.Client) -> dict[str, str]:
    """One of each kind of item, to open its own page."""
    return {
        name: first_link(client, listing)
        for name, listing in {
            "customer": "/staff/customers",
            "case": "/staff/cases",
            "experiment": "/staff/experiments",
            "campaign": "/staff/campaigns",
            "promise": "/staff/promises",
        }.items()
    }


def build_demo(data_dir: Path, customers: int, days: int) -> str:
    """Simulate into ``data_dir`` unless a demo is there already; how long it took, in words."""
    done = data_dir / "demo" / "simulated.json"
    if done.exists():
        summary = json.loads(done.read_text())
        return f"reused from {data_dir} (simulated in {summary['seconds']:.0f} s)"
    env = {"TILLIT_DATA_DIR": str(data_dir), "TILLIT_JOBS_INTERVAL_SECONDS": "0"}
    started = time.perf_counter()
    size = ["--customers", str(customers), "--days", str(days)]
    subprocess.run(
        [sys.executable, "-m", "tillit", "demo", "--no-serve", *size],
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return f"ready in {time.perf_counter() - started:.1f} s"


def run_size(customers: int, days: int, loads: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="tillit-pages-") as folder:
        data_dir = keep / f"{customers}-{days}" if keep else Path(folder)
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {"TILLIT_DATA_DIR": str(data_dir), "TILLIT_JOBS_INTERVAL_SECONDS": "0"}
        ready = build_demo(data_dir, customers, days)
        print(f"\n== {customers:,} customers over {days} days: demo {ready}")
        with (
            running_server(env=env, log_path=data_dir / "server.log") as base,
            httpx.Client(base_url=base, follow_redirects=True, timeout=120) as client,
        ):
            sign_in(client, data_dir)
            items = page_items(client)
            baseline = p95(timed(client, "/healthz", max(loads, 20)))
            print(f"baseline /healthz p95 {baseline:.1f} ms")
            print(f"{'page':45} {'median':>8} {'p95':>8} {'ratio':>8}  target")
            slow = 0
            for page in PAGES:
                path = page.format(**items)
                times = timed(client, path, loads)
                worst = p95(times)
                slow += worst > TARGET_MS
                verdict = "ok" if worst <= TARGET_MS else f"OVER {TARGET_MS} ms"
                print(
                    f"{path:45} {statistics.median(times):8.1f} {worst:8.1f} "
                    f"{worst / baseline:8.1f}  {verdict}"
                )
            print(f"{len(PAGES) - slow} of {len(PAGES)} pages within {TARGET_MS} ms p95")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes",
        default="1000",
        help="comma-separated customer counts, each optionally :DAYS, e.g. 1000,100000:30",
    )
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build each demo once in this folder, reuse it")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        customers, _, days = size.partition(":")
        run_size(int(customers), int(days or DEFAULT_DAYS), args.loads, args.keep)


if __name__ == "__main__":
    main()
