"""Who is calling: scoped API keys (``genpersona keys create``), checked on every request.

The middleware only authenticates: it turns the Authorization header into a
``Principal`` (401 when the key is missing, unknown or revoked) and applies the
per-key rate limit; each route then states the scope it needs with
``require_scope`` (genpersona.api.scopes), which answers 403 naming that scope.

When is a key required (``GENPERSONA_API_AUTH``): ``on`` always, ``off``
never, ``auto`` (default) as soon as a key was ever created or the deprecated
``GENPERSONA_API_KEY`` is set, so a fresh install on loopback stays easy and
revoking the last key never opens the API. Keys are looked up without a cache,
so revocation holds from the next request in every worker; the secret is never
logged (only the key's public id).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from genpersona.accounts.keys import any_keys, digest, key_id_of, verify_key
from genpersona.accounts.scopes import ALL_SCOPES
from genpersona.api.limits import EXEMPT_PATHS, Limiter, header, send_error, too_many
from genpersona.errors import Unauthorized
from genpersona.settings import Settings

log = logging.getLogger("genpersona.api.auth")

OPEN_PATHS = EXEMPT_PATHS | {"/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"}
#: vendors cannot hold our keys: webhook routes check the vendor's signature themselves
SIGNED_PREFIXES = ("/v1/webhooks/",)


@dataclass(frozen=True)
class Principal:
    """The caller as routes see it: which key (by public id) and what it may do."""

    kind: str  # "key" | "legacy" | "open"
    name: str
    key_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


OPEN = Principal(kind="open", name="open (auth off)", scopes=frozenset(ALL_SCOPES))
LEGACY = Principal(kind="legacy", name="GENPERSONA_API_KEY", scopes=frozenset(ALL_SCOPES))


class ApiKeyAuth:
    def __init__(self, app: ASGIApp, settings: Settings, key_limiter: Limiter | None) -> None:
        self.app = app
        self.settings = settings
        self.key_limiter = key_limiter
        self.legacy = digest(settings.api_key).encode() if settings.api_key else None
        #: once True stays True: keys are revoked, never deleted
        self._keys_exist = settings.api_auth == "on" or self.legacy is not None

    def _required(self) -> bool:
        if self.settings.api_auth == "off":
            return False
        if not self._keys_exist:
            self._keys_exist = any_keys(settings=self.settings)
        return self._keys_exist

    def _resolve(self, token: str) -> Principal | None:
        if self.legacy is not None and hmac.compare_digest(digest(token).encode(), self.legacy):
            return LEGACY
        info = verify_key(token, settings=self.settings)
        if info is None:
            return None
        return Principal(kind="key", name=info.name, key_id=info.id, scopes=frozenset(info.scopes))

    async def _deny(self, send: Send, path: str, presented: bool) -> None:
        exc = Unauthorized(
            "unknown or revoked API key" if presented else "this API needs an API key",
            fix="send 'Authorization: Bearer <key>' with a key from `genpersona keys create`",
        )
        await send_error(send, exc, {"WWW-Authenticate": "Bearer"}, path=path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in OPEN_PATHS
            or scope["path"].startswith(SIGNED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        required = self.settings.api_auth != "off" and (
            self._keys_exist or await anyio.to_thread.run_sync(self._required)
        )
        if not required:
            scope.setdefault("state", {})["principal"] = OPEN
            await self.app(scope, receive, send)
            return
        presented = header(scope, b"authorization") or ""
        scheme, _, token = presented.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self._deny(send, path, bool(presented))
            return
        token = token.strip()
        # on the event loop: one primary-key read (0.05 ms on SQLite's read fast path), which
        # a hop to the thread pool would cost several times over (bench/chat_api.py)
        principal = self._resolve(token)
        if principal is None:
            log.info("refused API key id=%s on %s", key_id_of(token) or "(malformed)", path)
            await self._deny(send, path, True)
            return
        if self.key_limiter is not None:
            wait = self.key_limiter.hit(f"key:{principal.key_id or principal.kind}")
            if wait > 0:
                exc = too_many(
                    self.key_limiter.per_minute,
                    wait,
                    "API key",
                    "GENPERSONA_API_KEY_RATE_PER_MINUTE",
                )
                await send_error(send, exc, {"Retry-After": str(wait)}, path=path)
                return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
