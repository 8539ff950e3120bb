"""`genpersona keys create|list|revoke`: scoped API keys for the HTTP API.

The secret is printed once, at creation, and never stored (only its digest);
lose it and create another key.
"""

from __future__ import annotations

import typer
from rich.table import Table

from genpersona.accounts.keys import create_key, list_keys, revoke_key
from genpersona.accounts.scopes import ALL_SCOPES, SCOPE_HELP
from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors

keys_app = typer.Typer(help="Scoped API keys: create, list, revoke.", no_args_is_help=True)

_SCOPES_HELP = "; ".join(f"{s}: {SCOPE_HELP[s]}" for s in ALL_SCOPES)


@keys_app.command("create")
@handle_errors
def create_cmd(
    name: str = typer.Option(..., "--name", help="Who uses the key, e.g. shop-chatbot."),
    scope: list[str] = typer.Option(
        ..., "--scope", help=f"Repeat or comma-separate. {_SCOPES_HELP}"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Create a key with the given scopes and print its secret (shown only this once)."""
    new = create_key(name, scope)
    if as_json:
        emit_json({**new.info.model_dump(mode="json"), "secret": new.secret})
        return
    console.print(
        f"created key {new.info.id} ({new.info.name}) with scopes {', '.join(new.info.scopes)}"
    )
    err_console.print("store this secret now; it is not shown again:")
    console.print(new.secret, highlight=False, soft_wrap=True)


@keys_app.command("list")
@handle_errors
def list_cmd(as_json: bool = JsonOpt) -> None:
    """Every key ever created (ids and scopes; never secrets), revoked ones included."""
    keys = list_keys()
    if as_json:
        emit_json([k.model_dump(mode="json") for k in keys])
        return
    table = Table("id", "name", "scopes", "created", "revoked")
    for k in keys:
        table.add_row(
            k.id,
            k.name,
            ", ".join(k.scopes),
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
@handle_errors
def revoke_cmd(
    key_id: str = typer.Argument(..., help="The key's id (from `keys list`)."),
    as_json: bool = JsonOpt,
) -> None:
    """Revoke a key: every worker refuses it from the next request on."""
    info = revoke_key(key_id)
    if as_json:
        emit_json(info)
        return
    console.print(f"revoked key {info.id} ({info.name}) at {info.revoked_at:%Y-%m-%d %H:%M:%S}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
