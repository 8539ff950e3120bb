"""HTTP overhead of the API: POST /v1/generate through uvicorn vs the same call in process.

Both sides run the real pipeline with the fake LLM and fake embedder, so what
differs is exactly the service layer (uvicorn, middleware, validation, JSON).
Each request has its own brief, so none is answered from the idempotency check.
Prints p50/p95 latency and requests/s for each, and the ratio.

    python bench/api.py [--requests 300] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setup_env() -> None:
    """A throwaway home and fake backends, set before genpersona reads its settings."""
    os.environ["GENPERSONA_HOME"] = tempfile.mkdtemp(prefix="gp-bench-api-")
    os.environ["GENPERSONA_LLM"] = "fake"
    os.environ["GENPERSONA_EMBEDDER"] = "fake"
    os.environ["GENPERSONA_API_RATE_PER_MINUTE"] = "0"  # measuring, not throttling
    os.environ.pop("GENPERSONA_API_KEY", None)


def seed() -> None:
    """One brand and one consenting customer with a profile: the personalized path runs."""
    from datetime import datetime

    from genpersona.data.tables import Brand, Customer, CustomerProfile
    from genpersona.db.engine import session_scope

    with session_scope() as session:
        brand = Brand(slug="giftloft", name="Giftloft")
        session.add(brand)
        session.flush()
        customer = Customer(
            brand_id=brand.id,
            external_id="17850",
            country="United Kingdom",
            consent_personalization=True,
            consent_email=True,
            consent_chat_memory=False,
        )
        session.add(customer)
        session.flush()
        session.add(
            CustomerProfile(
                customer_id=customer.id,
                brand_id=brand.id,
                as_of=datetime(2011, 12, 9),
                recency_days=12,
                frequency=30,
                monetary=5000.0,
                favourite_themes=["christmas", "kitchen"],
            )
        )


def body(i: int, tag: str) -> dict[str, object]:
    return {
        "brand": "giftloft",
        "kind": "subject_line",
        "customer_id": "17850",
        "brief": f"Winter gifts for the home, offer {tag}-{i}",
        "n": 3,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(call: Callable[[int], None], count: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        t0 = time.perf_counter()
        call(i)
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)

    start = time.perf_counter()
    if concurrency == 1:
        for i in range(count):
            one(i)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(count)))
    wall = time.perf_counter() - start
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "rps": count / wall,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    setup_env()
    sys.path.insert(0, ROOT)

    import httpx
    import uvicorn

    from genpersona.agent.pipeline import generate
    from genpersona.api.app import create_app
    from genpersona.settings import get_settings
    from genpersona.types.content import ContentRequest

    settings = get_settings()
    seed()
    generate(ContentRequest.model_validate(body(0, "warmup")), settings=settings)  # load once

    def in_process(i: int, tag: str = "inproc") -> None:
        generate(ContentRequest.model_validate(body(i, tag)), settings=settings)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    client.post("/v1/generate", json=body(0, "http-warmup")).raise_for_status()

    def over_http(i: int, tag: str = "http") -> None:
        resp = client.post("/v1/generate", json=body(i, tag))
        if resp.status_code != 200:
            raise SystemExit(f"HTTP {resp.status_code}: {resp.text[:300]}")

    try:
        rows = []
        for conc in sorted({1, args.concurrency}):
            inproc = measure(lambda i, c=conc: in_process(i, f"in{c}"), args.requests, conc)
            http = measure(lambda i, c=conc: over_http(i, f"http{c}"), args.requests, conc)
            rows.append((conc, inproc, http))
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)

    print(f"POST /v1/generate, fake LLM, {args.requests} requests per row, n=3 variants")
    print(f"{'concurrency':>11} {'path':>11} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
    for conc, inproc, http in rows:
        for name, m in (("in-process", inproc), ("HTTP", http)):
            print(f"{conc:>11} {name:>11} {m['p50_ms']:8.2f} {m['p95_ms']:8.2f} {m['rps']:8.1f}")
        print(
            f"{'':>11} {'ratio':>11} {http['p50_ms'] / inproc['p50_ms']:7.2f}x "
            f"{http['p95_ms'] / inproc['p95_ms']:7.2f}x {http['rps'] / inproc['rps']:7.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
