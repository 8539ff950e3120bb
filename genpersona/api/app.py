"""The FastAPI application: routers, limits, auth and one error format.

Middleware order (outermost first): rate limit -> auth -> body size -> routes.
Why: throttling first makes a flood (including of bad keys) cheap to refuse,
auth before reading the body means an unauthenticated client cannot make us
read 64 kB, and the size check runs before JSON parsing.
"""

from __future__ import annotations

from fastapi import FastAPI

from genpersona import __version__
from genpersona.api import (
    routes_chat,
    routes_content,
    routes_customers,
    routes_events,
    routes_generate,
)
from genpersona.api.auth import ApiKeyAuth
from genpersona.api.errors import install_error_handlers
from genpersona.api.limits import BodySizeLimit, RateLimit
from genpersona.api.services import Services
from genpersona.runtime import apply_runtime_defaults
from genpersona.settings import Settings, get_settings


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
    for module in (routes_generate, routes_chat, routes_events, routes_customers, routes_content):
        app.include_router(module.router)
    # add_middleware wraps: the last one added is the outermost
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(ApiKeyAuth, api_key=settings.api_key)
    app.add_middleware(RateLimit, per_minute=settings.api_rate_per_minute)
    return app


def serve_app() -> FastAPI:
    """The factory the server loads (``genpersona serve``, ``uvicorn --factory``).

    A process entry point, unlike ``create_app`` (also used in-process by tests and
    embedders), so it applies the OpenMP defaults before a route can load a model.
    """
    apply_runtime_defaults()
    return create_app()
