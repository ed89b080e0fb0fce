"""Benchmark: one contact decision over HTTP, latency at a fixed request rate.

    .venv/bin/python benchmarks/contact_http.py [--rate 200] [--seconds 10] [--customers 2000]

Starts `tillit serve` (SQLite in a temporary directory), loads customers with consents,
preferences and a send history, then sends POST /api/v1/contact/decide at a fixed rate (open
loop: requests leave on schedule whether or not earlier ones have answered, so a slow server
shows up as latency rather than as a lower rate). The baseline is GET /healthz at the same rate
from the same load generator in the same run: the cost of HTTP, uvicorn and the client alone.
Prints p50, p90, p99 and max for both, and the p99 ratio.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from tillit.audit.service import Actor
from tillit.config import load_settings
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.contact.log import record_send
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import Defaults, create_customer
from tillit.staff.service import create_token
from tillit.storage import make_engine, make_session_factory, upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/server.py
from tests.server import running_server

ACTOR = Actor.system("benchmark")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(url: str, customers: int) -> tuple[list[int], str]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    rng = random.Random(7)
    defaults = Defaults(country="DK", language="da", time_zone="Europe/Copenhagen")
    ids = []
    now = datetime.now(UTC)
    with sessions() as session, session.begin():
        for n in range(customers):
            customer = create_customer(
                session=session,
                defaults=defaults,
                actor=ACTOR,
                data=CustomerCreate(
                    identities=[IdentityCreate(type="email", value=f"b{n}@example.com")]
                ),
            )
            ids.append(customer.id)
            for purpose in ("marketing", "research"):
                if rng.random() < 0.7:
                    record_consent(
                        session=session,
                        customer_id=customer.id,
                        purpose_key=purpose,
                        decision=ConsentDecision.granted,
                        method=Method.import_,
                        actor=ACTOR,
                    )
            for _ in range(rng.randint(0, 6)):
                record_send(
                    session=session,
                    customer_id=customer.id,
                    channel="email",
                    kind="marketing",
                    sent_at=now - timedelta(hours=rng.randint(1, 700)),
                )
        token = create_token(
            session=session, name="bench", scopes=["contact:decide"], actor=ACTOR
        ).plaintext
    engine.dispose()
    return ids, token


def open_loop(send, rate: float, seconds: float, base: str, workers: int = 16) -> list[float]:
    """Fire ``rate`` requests a second for ``seconds``; returns each request's latency.

    Each thread keeps one keep-alive ``http.client`` connection: the standard library's client
    costs a fraction of httpx's per request, so less of what is measured is the load generator
    itself competing for this machine's two cores.
    """
    host = urlsplit(base)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        client = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        try:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                due = start + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                began = max(time.perf_counter(), due)
                send(client, n)
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.append(elapsed)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {
        "p50": pick(0.50),
        "p90": pick(0.90),
        "p99": pick(0.99),
        "max": ordered[-1] * 1000,
        "mean": statistics.fmean(ordered) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        ids, token = load(url, args.customers)
        env = {
            "TILLIT_DATABASE_URL": url,
            "TILLIT_DATA_DIR": tmp,
            "TILLIT_SECRET_KEY": load_settings().secret_key,
        }
        with running_server(env=env, workers=args.workers) as base:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            rng = random.Random(1)

            def decide(client: http.client.HTTPConnection, n: int) -> None:
                body = {
                    "customer_id": rng.choice(ids),
                    "purpose": "marketing",
                    "kind": "marketing",
                    "channel": "email",
                    "topic": None,
                }
                client.request(
                    "POST", "/api/v1/contact/decide", body=json.dumps(body), headers=headers
                )
                response = client.getresponse()
                answer = response.read()
                assert response.status == 200, answer

            def health(client: http.client.HTTPConnection, n: int) -> None:
                client.request("GET", "/healthz")
                response = client.getresponse()
                response.read()
                assert response.status == 200

            open_loop(decide, args.rate, 2, base)  # warm-up: caches, connections
            baseline = percentiles(open_loop(health, args.rate, args.seconds, base))
            measured = percentiles(open_loop(decide, args.rate, args.seconds, base))
    print(
        f"contact decision over HTTP, {args.rate:.0f} req/s for {args.seconds:.0f} s, "
        f"{args.customers} customers (SQLite), {args.workers} worker(s)"
    )
    for name, stats in (("GET /healthz (baseline)", baseline), ("POST /contact/decide", measured)):
        print(f"  {name:26s} " + "  ".join(f"{k} {v:6.2f} ms" for k, v in stats.items()))
    print(
        f"  p99 ratio decide/baseline: {measured['p99'] / baseline['p99']:.2f}x; "
        f"target p99 < 5 ms: {'met' if measured['p99'] < 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
