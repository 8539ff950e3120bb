"""The chat front-end API: streaming latency with the local model, and the cost of key checks.

1. Local model (GENPERSONA_LLM=local, fake embedder): time to first token and total time of
   a streamed /v1/chat/completions answer, against the same call non-streamed. The default
   guard mode checks the whole answer before the first byte, so expect TTFT close to the
   non-streamed total: streaming here buys a front end progressive display, not an earlier
   first word (the LLM interface does not stream tokens).
2. Fake LLM, concurrency 16 on loopback: requests/s and p95 of non-streamed
   /v1/chat/completions with scoped-key checks on (GENPERSONA_API_AUTH=on, a `chat` key
   looked up per request) against auth off, interleaved over rounds (the first config alternates); rate limits are off in
   both so only auth differs.

Each configuration is a fresh uvicorn process (one worker) over one throwaway home.

    python bench/chat_api.py [--requests 300] [--rounds 3] [--real-runs 3] [--skip-real]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MESSAGES = [{"role": "user", "content": "Do you sell advent calendars for children?"}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, home: str, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {
            **os.environ,
            "PYTHONPATH": ROOT,
            "GENPERSONA_HOME": home,
            "GENPERSONA_EMBEDDER": "fake",
            "GENPERSONA_API_RATE_PER_MINUTE": "0",
            "GENPERSONA_API_KEY_RATE_PER_MINUTE": "0",
            **env,
        }
        full.pop("GENPERSONA_API_KEY", None)
        cmd = [sys.executable, "-m", "uvicorn", "genpersona.api.app:create_app", "--factory"]
        cmd += ["--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        self.proc = subprocess.Popen(cmd, env=full, cwd=ROOT)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _body(**extra: object) -> dict:
    return {"model": "giftloft", "messages": MESSAGES, **extra}


def real_model(home: str, runs: int) -> None:
    print("== streamed vs non-streamed answer, local model ==", flush=True)
    with Server(home, GENPERSONA_LLM="local", GENPERSONA_API_AUTH="off") as srv:
        client = httpx.Client(base_url=srv.url, timeout=600)
        client.post("/v1/chat/completions", json=_body())  # load the model, warm caches
        plain, ttft, total, texts = [], [], [], []
        for i in range(runs):
            msgs = [{"role": "user", "content": f"Do you sell advent calendars? (a{i})"}]
            t0 = time.perf_counter()
            out = client.post("/v1/chat/completions", json=_body(messages=msgs)).json()
            # a new message for the stream: a repeated one is answered from the review queue
            msgs = [{"role": "user", "content": f"Do you sell advent calendars? (b{i})"}]
            plain.append(time.perf_counter() - t0)
            t0, first, text = time.perf_counter(), None, ""
            with client.stream(
                "POST", "/v1/chat/completions", json=_body(messages=msgs, stream=True)
            ) as resp:
                for line in resp.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
                    if delta and first is None:
                        first = time.perf_counter() - t0
                    text += delta or ""
            total.append(time.perf_counter() - t0)
            ttft.append(first or 0.0)
            texts.append((out["choices"][0]["message"]["content"], text))
    med = statistics.median
    print(f"non-streamed total      median {med(plain) * 1000:8.0f} ms  (runs: {runs})")
    print(f"streamed first token    median {med(ttft) * 1000:8.0f} ms")
    print(f"streamed total          median {med(total) * 1000:8.0f} ms")
    print(f"example streamed answer: {texts[0][1][:120]!r}")


def _load(url: str, n: int, concurrency: int, headers: dict[str, str]) -> tuple[float, list[float]]:
    """(wall seconds, per-request latencies) of ``n`` requests at ``concurrency``."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=url, timeout=60, limits=limits, headers=headers) as client:

        def one(i: int) -> float:
            msgs = [{"role": "user", "content": f"Any advent calendars? ({url} {i} {time.time()})"}]
            t0 = time.perf_counter()
            resp = client.post("/v1/chat/completions", json=_body(messages=msgs))
            assert resp.status_code == 200, resp.text
            return time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            lat = list(pool.map(one, range(n)))
        return time.perf_counter() - t0, lat


def auth_cost(home: str, n: int, rounds: int, concurrency: int) -> None:
    print(f"== /v1/chat/completions, fake LLM, concurrency {concurrency}, {n} requests each ==")
    env = {**os.environ, "GENPERSONA_HOME": home}
    code = "from genpersona.accounts.keys import create_key; print(create_key('bench', ['chat']).secret)"
    secret = subprocess.check_output([sys.executable, "-c", code], env=env, cwd=ROOT, text=True)
    headers = {"Authorization": f"Bearer {secret.strip()}"}
    # both servers run side by side and take turns batch by batch, so load from whatever
    # else runs on the machine falls on both alike
    with (
        Server(home, GENPERSONA_LLM="fake", GENPERSONA_API_AUTH="on") as on,
        Server(home, GENPERSONA_LLM="fake", GENPERSONA_API_AUTH="off") as off,
    ):
        configs = [("auth on (scoped key)", on.url, headers), ("auth off", off.url, {})]
        for _, url, hdrs in configs:  # not counted: first drafts, caches, connections
            _load(url, 4 * concurrency, concurrency, hdrs)
        walls: dict[str, float] = {label: 0.0 for label, _, _ in configs}
        lats: dict[str, list[float]] = {label: [] for label, _, _ in configs}
        batch = max(concurrency, n // rounds)
        for r in range(rounds):
            for label, url, hdrs in configs if r % 2 == 0 else configs[::-1]:
                wall, lat = _load(url, batch, concurrency, hdrs)
                walls[label] += wall
                lats[label] += lat
    base_rps = len(lats["auth off"]) / walls["auth off"]
    base_p95 = statistics.quantiles(lats["auth off"], n=20)[18]
    for label, _, _ in configs:
        rps = len(lats[label]) / walls[label]
        p95 = statistics.quantiles(lats[label], n=20)[18]
        print(
            f"{label:22s} {rps:7.1f} req/s ({rps / base_rps - 1:+.1%})  "
            f"p95 {p95 * 1000:7.1f} ms ({p95 / base_p95 - 1:+.1%})  "
            f"[{len(lats[label])} requests in {rounds} alternating batches]"
        )


def auth_cost_in_process(home: str, n: int) -> None:
    """The same comparison without sockets or other processes: sequential requests through
    the whole ASGI app (middleware, scope check, route), so the difference is auth itself."""
    import asyncio

    os.environ.update(GENPERSONA_HOME=home, GENPERSONA_LLM="fake", GENPERSONA_EMBEDDER="fake")
    sys.path.insert(0, ROOT)
    from genpersona.accounts.keys import create_key
    from genpersona.api.app import create_app
    from genpersona.api.services import Services
    from genpersona.settings import Settings

    secret = create_key("bench-inproc", ["chat"]).secret
    services = Services()
    apps = {
        "auth on (scoped key)": (
            create_app(
                Settings(api_auth="on", api_rate_per_minute=0, api_key_rate_per_minute=0),
                services=services,
            ),
            {"Authorization": f"Bearer {secret}"},
        ),
        "auth off": (
            create_app(
                Settings(api_auth="off", api_rate_per_minute=0, api_key_rate_per_minute=0),
                services=services,
            ),
            {},
        ),
    }

    async def run(path: str, body: dict | None, count: int) -> dict[str, list[float]]:
        """Requests alternate between the two apps one by one (order flipped every pair), so
        each pair meets the same machine load; the paired differences isolate auth."""
        lat: dict[str, list[float]] = {label: [] for label in apps}
        clients = {
            label: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=hdrs
            )
            for label, (app, hdrs) in apps.items()
        }
        for i in range(count):
            order = list(clients.items()) if i % 2 == 0 else list(clients.items())[::-1]
            for label, client in order:
                payload = None
                if body is not None:
                    msgs = [{"role": "user", "content": f"calendars? {label} {i}"}]
                    payload = {**body, "messages": msgs}
                t0 = time.perf_counter()
                resp = await (client.post(path, json=payload) if payload else client.get(path))
                lat[label].append(time.perf_counter() - t0)
                assert resp.status_code == 200, resp.text
        for client in clients.values():
            await client.aclose()
        return lat

    med = statistics.median
    models = asyncio.run(run("/v1/models", None, n * 4))
    chat = asyncio.run(run("/v1/chat/completions", _body(), n))
    on, off = "auth on (scoped key)", "auth off"
    print(f"== in process, paired requests: GET /v1/models x{n * 4}, chat completions x{n} ==")
    pairs = [a - b for a, b in zip(models[on], models[off], strict=True)]
    print(
        f"GET /v1/models          median on {med(models[on]) * 1e6:7.0f} us  off "
        f"{med(models[off]) * 1e6:7.0f} us  -> auth adds {med(pairs) * 1e6:5.0f} us per request "
        "(median paired difference)"
    )
    pairs = [a - b for a, b in zip(chat[on], chat[off], strict=True)]
    print(
        f"POST chat/completions   median on {med(chat[on]) * 1000:7.2f} ms  off "
        f"{med(chat[off]) * 1000:7.2f} ms  -> paired difference {med(pairs) * 1000:+.2f} ms "
        f"({med(pairs) / med(chat[off]):+.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--real-runs", type=int, default=3)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--only-in-process", action="store_true")
    args = parser.parse_args()
    if args.only_in_process:
        auth_cost_in_process(
            tempfile.mkdtemp(prefix="gp-bench-chat-api-inproc-"), args.requests // 2
        )
        return
    home = tempfile.mkdtemp(prefix="gp-bench-chat-api-")
    auth_cost(home, args.requests, args.rounds, args.concurrency)
    auth_cost_in_process(tempfile.mkdtemp(prefix="gp-bench-chat-api-inproc-"), args.requests // 2)
    if not args.skip_real:
        real_model(tempfile.mkdtemp(prefix="gp-bench-chat-api-real-"), args.real_runs)


if __name__ == "__main__":
    main()
