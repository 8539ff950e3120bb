"""Shared CLI plumbing: JSON or Rich output, and errors as one line on stderr.

Exit codes: 0 success; 1 a check failed (e.g. ``guard`` found a blocking
violation) or an unexpected error; otherwise the ``exit_code`` of the
GenpersonaError raised (2 config/input, 3 model, 4 store, 5 not found,
6 consent, 7 guardrails, 8 review conflict, 9 rate limited, 10 unauthorized,
11 campaign or task engine, 12 webhook).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from genpersona.errors import GenpersonaError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")


def emit_json(data: Any) -> None:
    """JSON to stdout, nothing else, so scripts can pipe it."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a GenpersonaError into one line on stderr and its documented exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GenpersonaError as exc:
            line = exc.message + (f" — fix: {exc.fix}" if exc.fix else "")
            raise fail(line, exc.exit_code) from None

    return wrapper
