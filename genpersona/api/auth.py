"""Optional bearer-token auth: on when ``GENPERSONA_API_KEY`` is set.

One shared key suits the intended caller (a brand's own chatbot backend on a
private network); the comparison is constant-time so the key cannot be guessed
byte by byte from response timings. Probes stay open for orchestrators.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from genpersona.api.limits import EXEMPT_PATHS, WEBHOOK_PREFIX, header, send_error
from genpersona.errors import Unauthorized

OPEN_PATHS = EXEMPT_PATHS | {"/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"}


class ApiKeyAuth:
    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode() if api_key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.expected is None
            or scope["path"] in OPEN_PATHS
            or scope["path"].startswith(WEBHOOK_PREFIX)  # signed by the platform instead
        ):
            await self.app(scope, receive, send)
            return
        presented = header(scope, b"authorization")
        if presented is None or not hmac.compare_digest(presented.encode(), self.expected):
            exc = Unauthorized(
                "missing or wrong API key" if presented else "this API needs an API key",
                fix="send the header 'Authorization: Bearer <GENPERSONA_API_KEY>'",
            )
            await send_error(send, exc, {"WWW-Authenticate": "Bearer"})
            return
        await self.app(scope, receive, send)
