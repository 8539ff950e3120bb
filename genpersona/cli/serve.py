"""``genpersona serve``: the HTTP API under uvicorn (chatbot backend, events, data controls)."""

from __future__ import annotations

import typer
import uvicorn

from genpersona.cli.common import console, handle_errors
from genpersona.errors import InputError
from genpersona.settings import get_settings


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; 0.0.0.0 for all."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each loads the model)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the HTTP API (docs at /docs) until interrupted."""
    if not 0 < port < 65536:
        raise InputError(f"port {port} is out of range", fix="use a port from 1 to 65535")
    if workers < 1:
        raise InputError(f"--workers {workers} must be at least 1", fix="use --workers 1 or more")
    settings = get_settings()
    auth = (
        "on (Bearer key)" if settings.api_key else "off (set GENPERSONA_API_KEY to require a key)"
    )
    if settings.api_key is None and host not in {"127.0.0.1", "localhost", "::1"}:
        console.print("[yellow]warning:[/yellow] serving on a public interface without an API key")
    console.print(
        f"genpersona API on http://{host}:{port} (docs /docs) — LLM {settings.llm}, auth {auth}, "
        f"limits {settings.api_rate_per_minute}/min, {settings.api_max_body_bytes} bytes",
        highlight=False,
    )
    uvicorn.run(
        "genpersona.api.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
