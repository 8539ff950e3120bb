"""``genpersona serve``: the HTTP API under uvicorn (chatbot backend, events, data controls)."""

from __future__ import annotations

import ipaddress

import typer
import uvicorn

from genpersona.accounts.keys import any_keys
from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.errors import ConfigError, InputError
from genpersona.settings import Settings, get_settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _is_loopback(host: str) -> bool:
    try:
        return host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_status(settings: Settings) -> tuple[bool, str]:
    """(keys are enforced, one line for the banner)."""
    if settings.api_auth == "off":
        return False, "off (GENPERSONA_API_AUTH=off)"
    if settings.api_auth == "on" or settings.api_key or any_keys(settings=settings):
        legacy = " + deprecated GENPERSONA_API_KEY" if settings.api_key else ""
        return True, f"on (scoped keys{legacy})"
    return False, "off (no keys yet: `genpersona keys create --name NAME --scope chat`)"


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; 0.0.0.0 for all."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each loads the model)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="Allow a non-loopback --host without API keys (anyone who can reach it can do "
        "anything: erase customers, read exports).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Serve the HTTP API (docs at /docs) until interrupted."""
    if not 0 < port < 65536:
        raise InputError(f"port {port} is out of range", fix="use a port from 1 to 65535")
    if workers < 1:
        raise InputError(f"--workers {workers} must be at least 1", fix="use --workers 1 or more")
    settings = get_settings()
    enforced, auth = auth_status(settings)
    if not enforced and not _is_loopback(host) and not insecure:
        raise ConfigError(
            f"refusing to serve on {host} without API keys: anyone who can reach it could "
            "erase customers and read their data",
            fix="create a key first (`genpersona keys create --name NAME --scope chat`), "
            "bind to 127.0.0.1, or pass --insecure if a proxy in front authenticates",
            host=host,
        )
    warnings: list[str] = []
    if not enforced and not _is_loopback(host):
        warnings.append("public interface without an API key")
    if settings.api_key:
        warnings.append(
            "GENPERSONA_API_KEY is deprecated: it acts as one all-scopes admin key; create "
            "scoped keys with `genpersona keys create` and unset it"
        )
    if workers > 1 and not settings.api_rate_limit_url:
        warnings.append(
            "rate limits are counted per worker; set GENPERSONA_API_RATE_LIMIT_URL=redis://... "
            "to share them"
        )
    if as_json:  # one object on stdout before uvicorn's own logging (stderr) starts
        emit_json(
            {
                "url": f"http://{host}:{port}",
                "docs": f"http://{host}:{port}/docs",
                "llm": settings.llm,
                "auth": enforced,
                "rate_per_minute": settings.api_rate_per_minute,
                "key_rate_per_minute": settings.api_key_rate_per_minute,
                "rate_limits_shared": settings.api_rate_limit_url is not None,
                "max_body_bytes": settings.api_max_body_bytes,
                "workers": workers,
                "warnings": warnings,
            }
        )
    else:
        for warning in warnings:
            err_console.print(f"[yellow]warning:[/yellow] {warning}")
        console.print(
            f"genpersona API on http://{host}:{port} (docs /docs) — LLM {settings.llm}, "
            f"auth {auth}, limits {settings.api_rate_per_minute}/min per address, "
            f"{settings.api_key_rate_per_minute}/min per key, {settings.api_max_body_bytes} bytes",
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
