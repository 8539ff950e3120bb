"""Every command that prints results takes ``--json`` and prints one JSON document on stdout."""

# ruff: noqa: F811  (the shared fixtures imported from _data_fixtures are used as arguments)
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from genpersona.cli.main import app
from tests._data_fixtures import memory_vectors, retail_frame, shop, write_parquet  # noqa: F401

runner = CliRunner()


def _leaf_commands(group: TyperGroup, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, cmd in group.commands.items():
        if isinstance(cmd, TyperGroup):
            out |= _leaf_commands(cmd, f"{prefix}{name} ")
        else:
            out[f"{prefix}{name}"] = cmd
    return out


def test_every_command_accepts_json() -> None:
    commands = _leaf_commands(typer.main.get_command(app))  # type: ignore[arg-type]
    assert {"customer export", "serve", "console", "doctor"} <= set(commands)
    missing = [
        name for name, cmd in commands.items() if not any("--json" in p.opts for p in cmd.params)
    ]
    assert missing == []


def test_customer_export_json_to_stdout_and_summary_with_out(shop, tmp_path: Path) -> None:
    result = runner.invoke(app, ["customer", "export", "10001", "--brand", shop, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["events"] and data["customer"]["external_id"] == "10001"

    out = tmp_path / "export.json"
    args = ["customer", "export", "10001", "--brand", shop, "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == {
        "file": str(out),
        "events": len(data["events"]),
        "memory_facts": len(data["memory_facts"]),
    }
    assert json.loads(out.read_text(encoding="utf-8"))["events"] == data["events"]


def test_customer_export_unknown_customer_fails_with_a_fix(shop) -> None:
    result = runner.invoke(app, ["customer", "export", "nobody", "--brand", shop, "--json"])
    assert result.exit_code != 0
    assert "nobody" in result.output


def test_serve_json_prints_the_endpoint_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    args = ["serve", "--host", "0.0.0.0", "--port", "8123", "--insecure", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["url"] == "http://0.0.0.0:8123" and info["auth"] is False
    assert info["warnings"] == ["public interface without an API key"]
    assert calls and calls[0]["port"] == 8123


def test_console_json_prints_the_url_and_seeded_drafts(monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(
        "genpersona.cli.console.subprocess.call", lambda cmd: commands.append(cmd) or 0
    )
    result = runner.invoke(app, ["console", "--port", "8601", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["url"] == "http://127.0.0.1:8601" and len(info["seeded"]) == 2
    assert commands and "8601" in commands[0]
