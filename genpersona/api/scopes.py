"""``require_scope``: the one line a route or router adds to say which key scope it needs.

    router = APIRouter(prefix="/v1/content", dependencies=[require_scope("content:read")])
    @router.post("/v1/events", dependencies=[require_scope("events:write")])

A request whose key lacks the scope gets 403 naming it. tests/test_api_scopes.py
compares the app's routes with its table of (route, scope) and calls each with
a key of every scope, so a new route left without ``require_scope`` fails it
(only ``UNSCOPED_PATHS`` may be open).
Webhooks are the exception by design: vendors cannot hold our keys, so
``/v1/webhooks/...`` are authenticated by the vendor's signature instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from genpersona.accounts.scopes import SCOPE_HELP, Scope
from genpersona.api.auth import SIGNED_PREFIXES, Principal
from genpersona.errors import Forbidden, Unauthorized

#: routes that need no key scope: probes, API docs, signed vendor webhooks (the auth
#: middleware lets ``SIGNED_PREFIXES`` through without a key)
UNSCOPED_PATHS = ("/healthz", "/readyz", "/docs", "/redoc", "/openapi.json", *SIGNED_PREFIXES)


def require_scope(scope: Scope) -> Any:
    """A FastAPI dependency (use in ``dependencies=[...]``) that answers 403 without ``scope``."""

    async def check(request: Request) -> Principal:  # async: no thread-pool hop for a lookup
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:  # mounted without the auth middleware: refuse, never assume
            raise Unauthorized(
                "this route needs an authenticated caller",
                fix="build the app with genpersona.api.app.create_app (it installs ApiKeyAuth)",
            )
        if not principal.allows(scope):
            raise Forbidden(
                f"this API key lacks the scope {scope!r} needed for "
                f"{request.method} {request.url.path}",
                fix=f"use a key created with --scope {scope} ({SCOPE_HELP[scope]}): "
                f"genpersona keys create --name NAME --scope {scope}",
                needed_scope=scope,
                key_id=principal.key_id,
                key_scopes=sorted(principal.scopes),
            )
        return principal

    return Depends(check)
