"""Every staff page of the demo, timed as a staff member loads it.

For each size: `tillit demo --no-serve --customers N` into a fresh data directory (its time to
ready is printed), then `tillit serve` with the jobs process off, a sign-in as the demo admin,
and each staff page loaded --loads times (one warm-up first). Prints each page's median and
p95 in milliseconds, the target (300 ms p95), and the ratio of its p95 to /healthz's p95 in the
same run, the baseline that tells this machine's speed from the page's own cost.

Run:  python benchmarks/staff_pages.py [--sizes 1000,100000] [--loads 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tillit.testing import running_server

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
    "/staff/matches",
    "/staff/imports",
    "/staff/quality",
    "/staff/insight",
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(client: httpx.Client, path: str, loads: int) -> list[float]:
    client.get(path)  # warm-up: templates compiled, caches filled
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


def a_customer(client: httpx.Client) -> str:
    listing = client.get("/staff/customers").text
    found = re.search(r'href="/staff/customers/(\d+)"', listing)
    assert found, "the customer list links to no customer"
    return found[1]


def run_size(customers: int, loads: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tillit-pages-") as folder:
        data_dir = Path(folder)
        env = {"TILLIT_DATA_DIR": str(data_dir), "TILLIT_JOBS_INTERVAL_SECONDS": "0"}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tillit", "demo", "--no-serve", "--customers", str(customers)],
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ready = time.perf_counter() - started
        print(f"\n== {customers:,} customers: demo ready in {ready:.1f} s")
        with (
            running_server(env=env, log_path=data_dir / "server.log") as base,
            httpx.Client(base_url=base, follow_redirects=True, timeout=120) as client,
        ):
            sign_in(client, data_dir)
            customer = a_customer(client)
            baseline = p95(timed(client, "/healthz", max(loads, 20)))
            print(f"baseline /healthz p95 {baseline:.1f} ms")
            print(f"{'page':45} {'median':>8} {'p95':>8} {'ratio':>8}  target")
            slow = 0
            for page in PAGES:
                path = page.format(customer=customer)
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
        "--sizes", default="1000", help="comma-separated customer counts, e.g. 1000,100000"
    )
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run_size(size, args.loads)


if __name__ == "__main__":
    main()
