"""``genpersona serve``: the HTTP API under uvicorn (chatbot backend, events, data controls)."""

from __future__ import annotations

import typer
import uvicorn

from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors
from genpersona.errors import InputError
from genpersona.settings import get_settings


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; 0.0.0.0 for all."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each loads the model)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    as_json: bool = JsonOpt,
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
    public_without_key = settings.api_key is None and host not in {"127.0.0.1", "localhost", "::1"}
    if as_json:  # one object on stdout before uvicorn's own logging (stderr) starts
        emit_json(
            {
                "url": f"http://{host}:{port}",
                "docs": f"http://{host}:{port}/docs",
                "llm": settings.llm,
                "auth": settings.api_key is not None,
                "rate_per_minute": settings.api_rate_per_minute,
                "max_body_bytes": settings.api_max_body_bytes,
                "workers": workers,
                "warnings": ["public interface without an API key"] if public_without_key else [],
            }
        )
    else:
        if public_without_key:
            console.print(
                "[yellow]warning:[/yellow] serving on a public interface without an API key"
            )
        console.print(
            f"genpersona API on http://{host}:{port} (docs /docs) — LLM {settings.llm}, "
            f"auth {auth}, limits {settings.api_rate_per_minute}/min, "
            f"{settings.api_max_body_bytes} bytes",
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
