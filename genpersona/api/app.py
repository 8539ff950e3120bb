"""The FastAPI application: routers, limits, auth and one error format.

Middleware order (outermost first): rate limit per address -> auth (then the
per-key limit) -> body size -> routes, which each require a key scope.
Why: throttling first makes a flood (including of bad keys) cheap to refuse,
auth before reading the body means an unauthenticated client cannot make us
read 64 kB, and the size check runs before JSON parsing.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from genpersona import __version__
from genpersona.api import (
    openai_compat,
    routes_chat,
    routes_content,
    routes_customers,
    routes_events,
    routes_generate,
    routes_review,
    routes_webhooks,
)
from genpersona.api.auth import ApiKeyAuth
from genpersona.api.errors import install_error_handlers
from genpersona.api.limits import BodySizeLimit, Limiter, RateLimit
from genpersona.api.services import Services
from genpersona.campaigns.triggers import install as install_triggers
from genpersona.runtime import apply_runtime_defaults
from genpersona.settings import Settings, get_settings

log = logging.getLogger("genpersona.api")


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the app; ``services`` swaps what the routes call (tests, embedding in another app)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="genpersona",
        version=__version__,
        description=(
            "Personalized, on-brand marketing copy and chatbot answers; events ingestion; "
            "customer data controls (export, erase, opt-out, reset)."
        ),
    )
    app.state.settings = settings
    app.state.services = services or Services()
    install_error_handlers(app)
    install_triggers(settings)  # events through /v1/events book campaign trigger fires
    for module in (
        routes_generate,
        routes_chat,
        openai_compat,
        routes_events,
        routes_customers,
        routes_content,
        routes_review,
        routes_webhooks,
    ):
        app.include_router(module.router)
    if settings.api_key:
        log.warning(
            "GENPERSONA_API_KEY is deprecated: it acts as one all-scopes admin key; create "
            "scoped keys with `genpersona keys create --scope ...` and unset it"
        )
    url = settings.api_rate_limit_url
    per_address = settings.api_rate_per_minute
    per_key = settings.api_key_rate_per_minute
    ns = settings.api_rate_limit_namespace
    # add_middleware wraps: the last one added is the outermost
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.api_max_body_bytes,
        webhook_max_bytes=settings.webhook_max_body_bytes,
    )
    app.add_middleware(
        ApiKeyAuth,
        settings=settings,
        key_limiter=Limiter(per_key, url, name="key", namespace=ns) if per_key > 0 else None,
    )
    app.add_middleware(
        RateLimit,
        limiter=Limiter(per_address, url, name="address", namespace=ns)
        if per_address > 0
        else None,
    )
    return app


def serve_app() -> FastAPI:
    """The factory the server loads (``genpersona serve``, ``uvicorn --factory``).

    A process entry point, unlike ``create_app`` (also used in-process by tests and
    embedders), so it applies the OpenMP defaults before a route can load a model.
    """
    apply_runtime_defaults()
    return create_app()
