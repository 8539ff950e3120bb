"""Request-size and request-rate limits, as plain ASGI middleware.

Why ASGI and not ``BaseHTTPMiddleware``: the size limit must stop reading a
body as soon as it passes the limit (a client streaming gigabytes must not be
buffered first), and pure ASGI adds no per-request task overhead. Both answer
with the same JSON error shape as every other endpoint.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genpersona.errors import GenpersonaError, PayloadTooLarge, RateLimited

#: liveness/readiness probes must never be throttled or refused
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
#: email platforms' webhooks carry their own signatures (not our API key), post
#: large batches, and retry (then disable the hook) on 429, so they get their own
#: body limit and no per-address throttle
WEBHOOK_PREFIX = "/v1/webhooks/"


async def send_error(
    send: Send, exc: GenpersonaError, extra_headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(exc.to_dict()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra_headers or {}).items()]
    await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int, seen: int | None) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than the limit of {limit} bytes",
        fix="send fewer items per request (split the batch) or raise GENPERSONA_API_MAX_BODY_BYTES",
        limit_bytes=limit,
        received_bytes=seen,
    )


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, webhook_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.webhook_max_bytes = max_bytes if webhook_max_bytes is None else webhook_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        webhook = scope["type"] == "http" and scope["path"].startswith(WEBHOOK_PREFIX)
        limit = self.webhook_max_bytes if webhook else self.max_bytes
        if scope["type"] != "http" or limit <= 0:
            await self.app(scope, receive, send)
            return
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        declared = header(scope, b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size > limit:
                await send_error(send, _too_large(limit, size))
                return
        # read the body now, stopping at the limit, then replay it to the app;
        # bodies are small by construction (the limit), so buffering is cheap
        chunks: list[bytes] = []
        seen = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await send_error(send, _too_large(limit, None))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class TokenBucket:
    """Per-key buckets: ``capacity`` requests at once, refilled at ``rate_per_s``.

    Idle keys are evicted oldest-first past ``max_keys`` so a scan from many
    addresses cannot grow memory without bound; an evicted key simply starts
    again with a full bucket.
    """

    def __init__(
        self,
        capacity: float,
        rate_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.capacity = capacity
        self.rate_per_s = rate_per_s
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token; return 0 when allowed, else seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate_per_s)
            if tokens >= 1.0:
                wait = 0.0
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate_per_s
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


def client_key(scope: Scope) -> str:
    """Who is asking: the client address (behind a proxy, run uvicorn with --proxy-headers).

    Not the Authorization header: an unchecked header would let a caller mint a
    fresh bucket per request by sending random keys.
    """
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


class RateLimit:
    """429 with ``Retry-After`` once a client exceeds ``per_minute`` requests."""

    def __init__(
        self, app: ASGIApp, per_minute: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.per_minute = per_minute
        self.bucket = (
            TokenBucket(per_minute, per_minute / 60.0, clock=clock) if per_minute > 0 else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.bucket is None
            or scope["path"] in EXEMPT_PATHS
            or scope["path"].startswith(WEBHOOK_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        wait = self.bucket.take(client_key(scope))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            exc = RateLimited(
                f"too many requests: the limit is {self.per_minute} per minute per client",
                fix=f"wait {retry_after} s (Retry-After) and slow down, or raise GENPERSONA_API_RATE_PER_MINUTE",
                limit_per_minute=self.per_minute,
                retry_after_s=retry_after,
            )
            await send_error(send, exc, {"Retry-After": str(retry_after)})
            return
        await self.app(scope, receive, send)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), or None."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
