"""HTTP ingest: POST /v1/batch (100 events a request, committed) against a bare endpoint.

Both servers run as uvicorn subprocesses (no access log) on this machine and get the same load
from the same generator: several threads, each with its own keep-alive httpx connection,
posting pre-serialised bodies. The bare endpoint is a tiny Starlette app in ONE uvicorn worker
that only reads and parses the same JSON (orjson) and answers 200, so the ratio is what Tillit
keeps of what the HTTP stack alone can do. Tillit runs in ``--workers`` uvicorn worker
processes (2 by default: parsing and HTTP run side by side, and the processes take turns to
write, see tillit.storage.group) and stores into SQLite in a temporary directory. The output
names both worker counts.

The events look like a web shop's: 5 signed-in people per request (from a pool of 20,000, so
people return), each with one identify (e-mail trait) and 19 page/track calls.

Both servers run at once and the load alternates between them in rounds (each round: the bare
endpoint, then Tillit), and the script prints each round's ratio and the median.

Run:  python benchmarks/tracking_http.py [--requests 100] [--rounds 3] [--threads 8] [--workers 2]
      python benchmarks/tracking_http.py --full   (3 rounds of 1,000 requests = 300,000 events
                                                   to Tillit)
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import httpx
import orjson

PER_REQUEST = 100
BARE_APP = textwrap.dedent(
    """
    import orjson
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def batch(request):
        body = orjson.loads(await request.body())
        return Response(orjson.dumps({"success": True, "accepted": len(body["batch"])}),
                        media_type="application/json")

    app = Starlette(routes=[Route("/v1/batch", batch, methods=["POST"])])
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bodies(count: int, run: str) -> list[bytes]:
    out = []
    for r in range(count):
        batch = []
        for p in range(5):
            person = (r * 7919 + p * 104729) % 20_000
            user, anon = f"user-{person}", f"anon-{run}-{r}-{p}"
            batch.append(
                {
                    "type": "identify",
                    "userId": user,
                    "anonymousId": anon,
                    "traits": {"email": f"person{person}@example.com", "plan": "basic"},
                    "messageId": f"{run}-{r}-{p}-i",
                }
            )
            for e in range(PER_REQUEST // 5 - 1):
                kind = "page" if e % 2 else "track"
                message = {
                    "type": kind,
                    "userId": user,
                    "anonymousId": anon,
                    "messageId": f"{run}-{r}-{p}-{e}",
                    "timestamp": "2026-03-01T10:00:00Z",
                    "context": {"page": {"path": f"/products/{e}"}, "userAgent": "bench"},
                    "properties": {"sku": f"SKU-{e}", "price": 12.5},
                }
                message["name" if kind == "page" else "event"] = (
                    "Product" if kind == "page" else "Product Viewed"
                )
                batch.append(message)
        out.append(orjson.dumps({"batch": batch, "sentAt": "2026-03-01T10:00:01Z"}))
    return out


def serve(args: list[str], env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", *args, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=cwd)
    # Two workers each import the whole app (5 s of CPU since the analytics layer came), and on
    # a loaded two-core machine that took more than the 30 s this waited before.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def load(port: int, payloads: list[bytes], threads: int, auth: str) -> float:
    """Seconds to post every payload, spread over ``threads`` keep-alive connections."""
    errors: list[str] = []

    def worker(mine: list[bytes]) -> None:
        headers = {"authorization": auth, "content-type": "application/json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            for body in mine:
                answer = client.post("/v1/batch", content=body, timeout=60)
                if answer.status_code != 200:
                    errors.append(answer.text[:200])

    workers = [
        threading.Thread(target=worker, args=(payloads[i::threads],)) for i in range(threads)
    ]
    start = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return elapsed


def tillit_env(data_dir: Path) -> tuple[dict[str, str], str]:
    from tillit.audit.service import Actor
    from tillit.events.sources import create_source
    from tillit.storage import make_engine, make_session_factory, upgrade
    from tillit.vocabulary import SourceChannel

    url = f"sqlite:///{data_dir / 'tillit.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session, session.begin():
        _, key = create_source(
            session=session, name="bench", channel=SourceChannel.web, actor=Actor.system("bench")
        )
    engine.dispose()
    env = {
        **os.environ,
        "TILLIT_DATABASE_URL": url,
        "TILLIT_DATA_DIR": str(data_dir),
        "TILLIT_ENV": "test",
    }
    return env, "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="3 rounds of 1,000 requests")
    parser.add_argument("--requests", type=int, default=None, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="Tillit's uvicorn workers")
    arguments = parser.parse_args()
    count = arguments.requests or (1000 if arguments.full else 100)
    events = count * PER_REQUEST
    rounds: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        (data_dir / "bare_app.py").write_text(BARE_APP)
        env, auth = tillit_env(data_dir)
        bare_port, tillit_port = free_port(), free_port()
        workers = ["--workers", str(arguments.workers)] if arguments.workers > 1 else []
        bare = serve(["bare_app:app"], env, bare_port, data_dir)
        try:
            app = serve(
                ["tillit.app:create_app", "--factory", *workers], env, tillit_port, data_dir
            )
        except RuntimeError:
            bare.kill()  # or it outlives the script and holds its output open
            raise
        try:
            load(bare_port, bodies(10, "warm-bare"), arguments.threads, auth)
            load(tillit_port, bodies(10, "warm"), arguments.threads, auth)
            # Rounds alternate between the two servers (the idle one uses no CPU), so that
            # each ratio compares runs a few seconds apart: this machine's speed drifts by
            # half over minutes, which made one long run of each a comparison of two moments.
            for n in range(arguments.rounds):
                bare_s = load(bare_port, bodies(count, f"bare-{n}"), arguments.threads, auth)
                tillit_s = load(tillit_port, bodies(count, f"run-{n}"), arguments.threads, auth)
                rounds.append((events / bare_s, events / tillit_s))
        finally:
            for process in (bare, app):
                process.terminate()
                process.wait()

    print(
        f"{arguments.rounds} rounds of {count:,} requests x {PER_REQUEST} events per server, "
        f"{arguments.threads} client threads; Tillit in {arguments.workers} uvicorn "
        f"worker{'s' if arguments.workers > 1 else ''} (SQLite, committed), bare in 1"
    )
    for n, (bare_rate, tillit_rate) in enumerate(rounds, 1):
        print(
            f"round {n}: bare {bare_rate:10,.0f} events/s   tillit {tillit_rate:10,.0f} events/s"
            f"   ratio {tillit_rate / bare_rate:5.2f}x"
        )
    tillit_rates = sorted(t for _, t in rounds)
    ratios = sorted(t / b for b, t in rounds)
    print(
        f"tillit /v1/batch, median   {statistics.median(tillit_rates):10,.0f} events/s"
        "  (target >= 20,000)"
    )
    print(f"ratio tillit/bare, median  {statistics.median(ratios):10.2f}x  (target >= 0.3x)")


if __name__ == "__main__":
    main()
