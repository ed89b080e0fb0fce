"""Where a contact decision's time goes, in-process (no network, no load generator):
the policy on stored data alone, a full request through the ASGI app, and /healthz through the
same app as the baseline. Prints milliseconds per call and the ratios.

    .venv/bin/python benchmarks/contact_breakdown.py [--customers 300] [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import warnings
from pathlib import Path

import httpx
from contact_http import load

from tillit.app import create_app
from tillit.config import load_settings
from tillit.contact.service import decide_for
from tillit.storage import make_engine, make_session_factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        ids, token = load(url, args.customers)
        settings = load_settings(database_url=url, data_dir=Path(tmp))
        engine = make_engine(url)
        sessions = make_session_factory(engine, read_only=True)
        started = time.perf_counter()
        for n in range(args.calls):
            with sessions() as session:
                decide_for(
                    session=session,
                    customer_id=ids[n % len(ids)],
                    purpose="marketing",
                    kind="marketing",
                    channel="email",
                    topic=None,
                    settings=settings,
                )
        policy_ms = (time.perf_counter() - started) / args.calls * 1000
        engine.dispose()
        app = create_app(settings)
        health_ms, request_ms = asyncio.run(_through_app(app, ids, token, args.calls))
        app.state.engine.dispose()
    print(f"decide_for on stored data        {policy_ms:6.2f} ms")
    print(f"POST /contact/decide through ASGI {request_ms:6.2f} ms")
    print(f"GET /healthz through ASGI (base)  {health_ms:6.2f} ms")
    print(
        f"ratio request/healthz {request_ms / health_ms:.1f}x; "
        f"share of the request in decide_for {policy_ms / request_ms:.0%}"
    )


async def _through_app(app: object, ids: list[int], token: str, calls: int) -> tuple[float, float]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        for _ in range(calls):
            await client.get("/healthz")
        health = (time.perf_counter() - started) / calls * 1000
        started = time.perf_counter()
        for n in range(calls):
            response = await client.post(
                "/api/v1/contact/decide",
                headers=headers,
                json={
                    "customer_id": ids[n % len(ids)],
                    "purpose": "marketing",
                    "kind": "marketing",
                    "channel": "email",
                },
            )
            assert response.status_code == 200, response.text
        return health, (time.perf_counter() - started) / calls * 1000


if __name__ == "__main__":
    main()
