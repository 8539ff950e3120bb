"""``require_scope``: the one line a route or router adds to say which key scope it needs.

    router = APIRouter(prefix="/v1/content", dependencies=[require_scope("content:read")])
    @router.post("/v1/events", dependencies=[require_scope("events:write")])

A request whose key lacks the scope gets 403 naming it. Routes without any
``require_scope`` are refused by a test (tests/test_api_scopes.py) unless
listed in ``UNSCOPED_PATHS``, so a new router cannot be left open by mistake.
Webhooks are the exception by design: vendors cannot hold our keys, so
``/v1/webhooks/...`` are authenticated by the vendor's signature instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from genpersona.accounts.scopes import SCOPE_HELP, Scope
from genpersona.api.auth import Principal
from genpersona.errors import Forbidden, Unauthorized

#: routes that need no key scope: probes, API docs, signed vendor webhooks
UNSCOPED_PATHS = ("/healthz", "/readyz", "/docs", "/redoc", "/openapi.json", "/v1/webhooks/")


def require_scope(scope: Scope) -> Any:
    """A FastAPI dependency (use in ``dependencies=[...]``) that answers 403 without ``scope``."""

    def check(request: Request) -> Principal:
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

    check.required_scope = scope  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(check)


def route_scope(route: Any) -> str | None:
    """The scope a mounted route requires (None when it has no ``require_scope``)."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        found = getattr(dep.call, "required_scope", None)
        if found:
            return str(found)
        stack.extend(dep.dependencies)
    return None
