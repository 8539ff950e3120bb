"""`genpersona accounts create|list|disable|enable|set-password|set-role`: console sign-in.

Passwords are read from a prompt (or ``--password-stdin`` for scripts), never
from a command-line flag, which would leave them in shell history and ``ps``.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from genpersona.accounts import console_accounts as store
from genpersona.accounts.roles import ROLES
from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors

accounts_app = typer.Typer(
    help="Review-console accounts: create, list, disable, set-password, set-role.",
    no_args_is_help=True,
)
StdinOpt = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input."
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _done(account: store.Account, as_json: bool, line: str) -> None:
    if as_json:
        emit_json(account)
    else:
        console.print(line)


@accounts_app.command("create")
@handle_errors
def create_cmd(
    name: str,
    role: str = typer.Option("reviewer", "--role", help=f"One of: {', '.join(ROLES)}."),
    password_stdin: bool = StdinOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create an account (reviewer: reject/regenerate; approver: also approve; admin: all)."""
    account = store.create_account(name, _password(password_stdin), role)
    _done(account, as_json, f"created account {account.name!r} with role {account.role}")


@accounts_app.command("list")
@handle_errors
def list_cmd(as_json: bool = JsonOpt) -> None:
    accounts = store.list_accounts()
    if as_json:
        emit_json([a.model_dump(mode="json") for a in accounts])
        return
    table = Table("name", "role", "status", "created")
    for a in accounts:
        table.add_row(
            a.name, a.role, "disabled" if a.disabled else "active", f"{a.created_at:%Y-%m-%d}"
        )
    console.print(table)


@accounts_app.command("disable")
@handle_errors
def disable_cmd(name: str, as_json: bool = JsonOpt) -> None:
    """Stop an account from signing in (its past decisions keep its name)."""
    _done(store.set_disabled(name, True), as_json, f"disabled account {name!r}")


@accounts_app.command("enable")
@handle_errors
def enable_cmd(name: str, as_json: bool = JsonOpt) -> None:
    _done(store.set_disabled(name, False), as_json, f"enabled account {name!r}")


@accounts_app.command("set-password")
@handle_errors
def set_password_cmd(name: str, password_stdin: bool = StdinOpt, as_json: bool = JsonOpt) -> None:
    account = store.set_password(name, _password(password_stdin))
    _done(account, as_json, f"changed the password of {name!r}")


@accounts_app.command("set-role")
@handle_errors
def set_role_cmd(
    name: str,
    role: str = typer.Argument(..., help=f"One of: {', '.join(ROLES)}."),
    as_json: bool = JsonOpt,
) -> None:
    account = store.set_role(name, role)
    _done(account, as_json, f"{account.name!r} is now {account.role}")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
