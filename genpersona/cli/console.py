"""``genpersona console``: the marketers' review console (Streamlit) on this machine."""

from __future__ import annotations

import subprocess
import sys

import typer

from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.db.engine import get_engine
from genpersona.errors import ConfigError, InputError
from genpersona.review.seed import seed_queue
from genpersona.settings import PROJECT_ROOT, get_settings

APP_FILE = PROJECT_ROOT / "app" / "console.py"


def streamlit_command(port: int, address: str, headless: bool) -> list[str]:
    """The exact command line, kept in one place so tests start the console the same way."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        # marketers get the app, not Streamlit's developer toolbar ("Deploy", rerun menu)
        "--client.toolbarMode",
        "viewer",
    ]


@handle_errors
def console_cmd(
    port: int = typer.Option(8501, "--port", help="TCP port of the console."),
    address: str = typer.Option("127.0.0.1", "--address", help="Interface; 0.0.0.0 for all."),
    headless: bool = typer.Option(
        False, "--headless", help="Do not open a browser (servers, CI, containers)."
    ),
    seed: int = typer.Option(
        0,
        "--seed",
        help="First queue this many synthetic demo drafts (to try the console without a model).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Open the review console: queue, draft detail, decisions, insights, suggested rules."""
    if not 0 < port < 65536:
        raise InputError(f"port {port} is out of range", fix="use a port from 1 to 65535")
    if seed < 0:
        raise InputError(f"--seed {seed} is negative", fix="pass 0 (no demo drafts) or more")
    if not APP_FILE.is_file():
        raise ConfigError(
            f"the console app {APP_FILE} is missing",
            fix="run genpersona from a checkout of the project (the app/ folder holds the console)",
        )

    settings = get_settings()
    get_engine(settings)  # migrate now, so a bad database URL fails here with a clear error
    ids: list[int] = []
    if seed:
        ids = seed_queue(seed, settings)
        err_console.print(f"queued {len(ids)} demo drafts")
    database = settings.sqlalchemy_url.split("@")[-1]
    if as_json:  # one object on stdout; streamlit's own output follows
        emit_json({"url": f"http://{address}:{port}", "database": database, "seeded": ids})
    else:
        from genpersona.accounts.console_accounts import any_accounts

        if not any_accounts(settings=settings):
            err_console.print(
                "no console accounts yet: create one to sign in, e.g. "
                "`genpersona accounts create alice --role admin`"
            )
        console.print(
            f"review console on http://{address}:{port} — database {database}", highlight=False
        )
    code = subprocess.call(streamlit_command(port, address, headless))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("console")(console_cmd)
