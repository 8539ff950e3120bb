"""Request-size and request-rate limits, as plain ASGI middleware.

Why ASGI and not ``BaseHTTPMiddleware``: the size limit must stop reading a
body as soon as it passes the limit (a client streaming gigabytes must not be
buffered first), and pure ASGI adds no per-request task overhead. Both answer
in the error shape of the route asked for (genpersona's, or OpenAI's on the
OpenAI-compatible routes). Rate counting is the ``limits`` library's moving
window, in Redis when ``GENPERSONA_API_RATE_LIMIT_URL`` is set: one round trip
on the event loop per request, cheaper than a hop to the thread pool.
"""

from __future__ import annotations

import json
import logging
import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genpersona.api.errors import error_body
from genpersona.errors import GenpersonaError, PayloadTooLarge, RateLimited

log = logging.getLogger("genpersona.api")

#: liveness/readiness probes must never be throttled or refused
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
#: email platforms' webhooks carry their own signatures (not our API key), post
#: large batches, and retry (then disable the hook) on 429, so they get their own
#: body limit and no per-address throttle
WEBHOOK_PREFIX = "/v1/webhooks/"


async def send_error(
    send: Send, exc: GenpersonaError, extra_headers: dict[str, str] | None = None, *, path: str
) -> None:
    """An error from middleware, in the shape of the route at ``path`` (see api.errors)."""
    status, payload = error_body(exc, path)
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra_headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
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
                await send_error(send, _too_large(limit, size), path=scope["path"])
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
                await send_error(send, _too_large(limit, None), path=scope["path"])
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


class Limiter:
    """``per_minute`` requests per key in a moving one-minute window, counted by ``limits``.

    With ``storage_url`` (``redis://...``) every worker and machine shares the
    counts, so ``serve --workers 4`` does not quadruple the allowance; without
    it each process counts on its own (memory storage, expired keys dropped).
    If Redis stops answering, requests are let through and a warning is logged:
    an outage of the limiter must not become an outage of the API.
    """

    def __init__(
        self,
        per_minute: int,
        storage_url: str | None = None,
        *,
        name: str,
        namespace: str = "genpersona",
    ) -> None:
        self.per_minute = per_minute
        self.item = RateLimitItemPerMinute(per_minute, namespace=f"{namespace}-{name}")
        self.storage = storage_from_string(storage_url or "memory://")
        self.strategy = MovingWindowRateLimiter(self.storage)

    def hit(self, key: str) -> int:
        """Count one request; 0 when allowed, else whole seconds until one is (Retry-After)."""
        try:
            if self.strategy.hit(self.item, key):
                return 0
            stats = self.strategy.get_window_stats(self.item, key)
        except Exception as exc:  # Redis down: fail open, loudly
            log.warning("rate limiter storage failed (%s); request allowed", type(exc).__name__)
            return 0
        return max(1, math.ceil(stats.reset_time - time.time()))

    def clear(self) -> None:
        self.storage.reset()


def too_many(limit: int, retry_after: int, who: str, setting: str) -> RateLimited:
    return RateLimited(
        f"too many requests: the limit is {limit} per minute per {who}",
        fix=f"wait {retry_after} s (Retry-After) and slow down, or raise {setting}",
        limit_per_minute=limit,
        retry_after_s=retry_after,
    )


def client_key(scope: Scope) -> str:
    """Who is asking: the client address (behind a proxy, run uvicorn with --proxy-headers).

    Not the Authorization header: an unchecked header would let a caller mint a
    fresh bucket per request by sending random keys (keys are limited after
    they are verified, in the auth middleware).
    """
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


class RateLimit:
    """429 with ``Retry-After`` once a client address exceeds its per-minute limit."""

    def __init__(self, app: ASGIApp, limiter: Limiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.limiter is None
            or scope["path"] in EXEMPT_PATHS
            # platforms sign their requests; a 429 makes them retry and disable the hook
            or scope["path"].startswith(WEBHOOK_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.hit(client_key(scope))
        if wait > 0:
            exc = too_many(
                self.limiter.per_minute, wait, "client address", "GENPERSONA_API_RATE_PER_MINUTE"
            )
            await send_error(send, exc, {"Retry-After": str(wait)}, path=scope["path"])
            return
        await self.app(scope, receive, send)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), or None."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
