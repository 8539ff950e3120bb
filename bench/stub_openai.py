"""A stand-in for a GPU serving engine: an OpenAI-compatible server with a fixed latency.

    python bench/stub_openai.py --latency-ms 200 --max-in-flight 64 [--port 8765]

Answers ``/v1/completions`` (one prompt or a list of them) and ``/v1/chat/completions``
(``n`` choices, optional ``stream``, at most 4 ``stop`` sequences as OpenAI) after ``latency`` seconds, with at most ``max_in_flight`` requests being
served at once (the rest wait, as on a GPU whose batch is full). Its ideal throughput
is therefore ``max_in_flight / latency`` requests per second, printed at start. Lines
are fluent, short and vary with the request's seed and the choice index, so the
guardrails, scoring and storage downstream do real work: 27,000 distinct lines, so a
per-text vector cache hits about as rarely as on a real model's personalised copy
(``--canned-lines``: the 1,000 lines of session 5, which a cache mostly answered).

Why a stub and not a real GPU: the campaign benchmark measures genpersona's own
work against a backend of known speed; with a real engine the backend's speed
would be the unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

#: the first ten of each list are the canned vocabulary (``--canned-lines``: 1,000 lines)
OPENERS = ["Fresh finds", "New in", "Picked for you", "Just landed", "Made for slow evenings",
           "Little luxuries", "Back in stock", "Your next favourite", "Cosy corners",
           "Small joys", "Quiet treats", "Bright ideas", "Good things", "Simple pleasures",
           "Handpicked pieces", "Gentle touches", "Everyday treasures", "Warm welcomes",
           "Thoughtful gifts", "Pretty details", "Lovely little things", "Soft surprises",
           "Timeless pieces", "Happy finds", "Fresh ideas", "Kind gestures", "Quiet wins",
           "Easy upgrades", "Cheerful picks", "Sweet details"]  # fmt: skip
MIDDLES = ["for your kitchen", "for the garden", "for candlelit nights", "for gift wrapping",
           "for a calmer home", "for weekend baking", "for the party table",
           "for a brighter desk", "for tidy shelves", "for winter mornings",
           "for the reading nook", "for tea time", "for the hallway", "for rainy days",
           "for picnic season", "for the spare room", "for little ones", "for the windowsill",
           "for a cosy bedroom", "for long lunches", "for the mantelpiece", "for craft nights",
           "for the bathroom shelf", "for slow Sundays", "for the dinner table",
           "for bright balconies", "for the porch", "for crisp autumn walks",
           "for the home office", "for game nights"]  # fmt: skip
CLOSERS = ["this week", "while they last", "in time for the weekend", "from our studio",
           "at the shop now", "before the season ends", "we think you will love",
           "chosen with care", "in soft new colours", "for you", "this month",
           "made in small batches", "now in store", "ready to wrap", "just for today",
           "in warm new shades", "picked by our team", "with love from us", "as the days get longer",
           "to brighten the season", "straight from the workshop", "for every budget",
           "to share with friends", "you asked for", "in fresh new prints", "before they go",
           "to make you smile", "with a little sparkle", "in classic styles",
           "for the months ahead"]  # fmt: skip
CANNED = 10


def line_for(seed: int, index: int, varied: bool = True) -> str:
    """A fluent one-line draft, a pure function of (seed, choice index): one of 27,000
    lines (``varied``), so a per-text cache hits about as rarely as on real copy, or of
    the 1,000 canned ones."""
    rng = random.Random(seed * 1_000_003 + index)
    k = len(OPENERS) if varied else CANNED
    return f"{rng.choice(OPENERS[:k])} {rng.choice(MIDDLES[:k])} {rng.choice(CLOSERS[:k])}"


#: preheaders under a subject line: neutral, fluent, mostly in other words than the subject
#: vocabulary above, so ``complementing`` keeps them (900 distinct ones)
PRE_OPENERS = ["Wrapped with care", "Chosen one by one", "Made for every day",
               "Small batches, big smiles", "Soft colours, honest materials",
               "Lovely to unwrap", "Crafted by makers", "Built to last",
               "Light, pretty and practical", "Designed in our studio", "Picked by hand",
               "Kind to the planet", "Simple shapes, warm tones", "Good looking and sturdy",
               "Ready to gift", "A treat to unwrap", "Bright, useful and fun",
               "Sturdy and charming", "Everyday magic", "Classic with a twist",
               "Quietly beautiful", "Useful, not fussy", "Small but mighty",
               "Gentle on the eye", "Playful and practical", "Made with love",
               "Full of character", "Clever little helpers", "Elegant and easy",
               "Colourful and calm"]  # fmt: skip
PRE_CLOSERS = ["and packed by our team.", "with a note if you like.", "to keep or to give.",
               "from our little workshop.", "in calm and cheerful shades.", "and sent out with care.",
               "for every room.", "in a box made for gifting.", "to enjoy all year.",
               "with stories behind them.", "for people you love.", "that feel like home.",
               "in sizes for every shelf.", "with a smile.", "and easy on the wallet.",
               "ready when you are.", "to make the day special.", "at a friendly price.",
               "made the slow way.", "with a touch of whimsy.", "to mix and match.",
               "in time for celebrations.", "for moments that matter.", "without the fuss.",
               "with a little extra care.", "and good for years.", "to share at the table.",
               "as gifts or just because.", "in lovely new finishes.", "from people we trust."]  # fmt: skip


def preheader_for(seed: int, index: int) -> str:
    """The preheader line a subject-line record gets (a pure function of seed and index)."""
    rng = random.Random(seed * 7_000_003 + index)
    return f"{rng.choice(PRE_OPENERS)} {rng.choice(PRE_CLOSERS)}"


def reply_for(seed: int, index: int, prompt: str, varied: bool = True) -> str:
    """What a fast model writes after ``prompt``: a line, and under an open subject-line
    field its preheader too (as a real model finishes the record; without it the
    benchmark would guard and score half the text a real campaign's drafts carry)."""
    line = line_for(seed, index, varied)
    if prompt.rstrip().endswith("Subject:"):
        return f"{line}\nPreheader: {preheader_for(seed, index)}"
    return line


class Gate:
    """At most ``limit`` requests served at once; counts what it served."""

    def __init__(self, limit: int, latency_s: float) -> None:
        self.limit = limit
        self.latency_s = latency_s
        self.served = 0
        self.peak = 0
        #: seconds slots were held in all: above ``served x latency`` when the stub's own
        #: event loop wakes late (its cores busy), which lowers what it can really serve
        self.held_s = 0.0
        self._active = 0
        self._sem: asyncio.Semaphore | None = None

    async def serve(self) -> None:
        if self._sem is None:  # created inside the server's event loop
            self._sem = asyncio.Semaphore(self.limit)
        async with self._sem:
            self._active += 1
            self.peak = max(self.peak, self._active)
            start = time.perf_counter()
            try:
                await asyncio.sleep(self.latency_s)
            finally:
                self._active -= 1
                self.served += 1
                self.held_s += time.perf_counter() - start


#: stop sequences OpenAI accepts per request
MAX_STOP = 4


def _cut(text: str, stop: list[str]) -> str:
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]


def _seed(body: dict[str, Any]) -> int:
    seed = body.get("seed")
    return int(seed) if seed is not None else random.randrange(2**31)


def _usage(prompt: str, texts: list[str]) -> dict[str, int]:
    p = max(1, len(prompt) // 4)
    c = sum(max(1, len(t) // 4) for t in texts)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def create_app(latency_s: float, max_in_flight: int, varied: bool = True) -> FastAPI:
    app = FastAPI(title="stub-openai")
    gate = Gate(max_in_flight, latency_s)
    app.state.gate = gate

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "bench"}]}

    @app.get("/stats")
    async def stats() -> dict[str, Any]:
        return {"served": gate.served, "peak_in_flight": gate.peak, "limit": gate.limit,
                "held_s": round(gate.held_s, 3)}  # fmt: skip

    async def answer(request: Request, chat: bool) -> Any:
        body = await request.json()
        n = int(body.get("n") or 1)
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        if len(stop) > MAX_STOP:  # as OpenAI does: a client must not rely on more
            return JSONResponse(status_code=400, content={"error": {
                "message": f"'stop' accepts at most {MAX_STOP} sequences, got {len(stop)}",
                "type": "invalid_request_error", "param": "stop"}})  # fmt: skip
        seed = _seed(body)
        # the legacy completions endpoint takes a list of prompts: n choices for each, in
        # order (index = prompt * n + choice), one request in the server's batch
        raw = body.get("prompt", "")
        prompts = [json.dumps(body.get("messages"))] if chat else (
            [str(p) for p in raw] if isinstance(raw, list) else [str(raw)]
        )  # fmt: skip
        texts = [_cut(reply_for(seed, i, prompts[i // n], varied), stop)
                 for i in range(n * len(prompts))]  # fmt: skip
        prompt = "".join(prompts)
        await gate.serve()
        rid = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:12]}"
        model = body.get("model") or "stub"
        created = int(time.time())
        if body.get("stream"):
            return StreamingResponse(_stream(rid, model, created, texts, chat),
                                     media_type="text/event-stream")  # fmt: skip
        if chat:
            choices = [
                {"index": i, "message": {"role": "assistant", "content": t},
                 "finish_reason": "stop"}
                for i, t in enumerate(texts)
            ]  # fmt: skip
            obj = "chat.completion"
        else:
            choices = [
                {"index": i, "text": " " + t, "finish_reason": "stop", "logprobs": None}
                for i, t in enumerate(texts)
            ]
            obj = "text_completion"
        return JSONResponse({"id": rid, "object": obj, "created": created, "model": model,
                             "choices": choices, "usage": _usage(prompt, texts)})  # fmt: skip

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        return await answer(request, chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        return await answer(request, chat=True)

    return app


async def _stream(
    rid: str, model: str, created: int, texts: list[str], chat: bool
) -> AsyncIterator[str]:
    obj = "chat.completion.chunk" if chat else "text_completion"
    for i, text in enumerate(texts):
        for word in text.split(" "):
            piece = word + " "
            choice: dict[str, Any] = (
                {"index": i, "delta": {"content": piece}, "finish_reason": None}
                if chat
                else {"index": i, "text": piece, "finish_reason": None}
            )
            chunk = {"id": rid, "object": obj, "created": created, "model": model,
                     "choices": [choice]}  # fmt: skip
            yield f"data: {json.dumps(chunk)}\n\n"
        end: dict[str, Any] = (
            {"index": i, "delta": {}, "finish_reason": "stop"}
            if chat
            else {"index": i, "text": "", "finish_reason": "stop"}
        )
        chunk = {"id": rid, "object": obj, "created": created, "model": model, "choices": [end]}
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


class StubServer:
    """The stub in a background thread of this process (bench, tests)."""

    def __init__(self, latency_s: float, max_in_flight: int, port: int = 0) -> None:
        self.latency_s, self.max_in_flight = latency_s, max_in_flight
        self.app = create_app(latency_s, max_in_flight)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning",
                                backlog=4096, limit_concurrency=10_000)  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def ideal_rps(self) -> float:
        return self.max_in_flight / self.latency_s

    @property
    def base_url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"

    @property
    def gate(self) -> Gate:
        return self.app.state.gate  # type: ignore[no-any-return]  # starlette State is untyped

    def __enter__(self) -> StubServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the stub server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument("--max-in-flight", type=int, default=64)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--canned-lines", action="store_true", help="the 1,000-line vocabulary")
    args = ap.parse_args()
    latency = args.latency_ms / 1000
    print(f"stub-openai on http://127.0.0.1:{args.port}/v1: latency {args.latency_ms:.0f} ms, "
          f"{args.max_in_flight} in flight -> ideal {args.max_in_flight / latency:.0f} "
          "requests/s")  # fmt: skip
    app = create_app(latency, args.max_in_flight, varied=not args.canned_lines)
    uvicorn.run(app, host="127.0.0.1", port=args.port,
                log_level="warning", backlog=4096)  # fmt: skip


if __name__ == "__main__":
    main()
