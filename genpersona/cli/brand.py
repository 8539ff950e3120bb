"""`genpersona brand ...` (list, check, show, import-style-guide) and `genpersona guard`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from genpersona.brands.loader import list_guides, load_guide, parse_guide_text
from genpersona.brands.style_guide_import import import_style_guide, write_guide
from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors
from genpersona.errors import InputError
from genpersona.guard.engine import check
from genpersona.guard.lint import lint_guide
from genpersona.settings import get_settings

brand_app = typer.Typer(help="Brand guides: list, lint, import.", no_args_is_help=True)
KINDS = ("subject_line", "hero", "chat_answer")


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--send-date {value!r} is not a date", fix="write it as YYYY-MM-DD, e.g. 2026-12-01"
        ) from None


@brand_app.command("list")
@handle_errors
def list_cmd(as_json: bool = JsonOpt) -> None:
    """List the brand guides in the guides folder."""
    guides = list_guides()
    rows: list[dict[str, Any]] = [
        {
            "id": g.id,
            "name": g.name,
            "locale": g.locale,
            "version": g.version,
            "rules": g.rule_count,
            "claims": len(g.claims.registry),
            "default": g.id == get_settings().default_brand,
        }
        for g in guides
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "name", "locale", "version", "rules", "claims")
    for r in rows:
        table.add_row(
            r["id"] + (" (default)" if r["default"] else ""),
            r["name"],
            r["locale"],
            r["version"],
            str(r["rules"]),
            str(r["claims"]),
        )
    console.print(table)


@brand_app.command("check")
@handle_errors
def check_cmd(
    file: Path = typer.Argument(..., help="a brand guide YAML file (or a brand name)"),
    send_date: str | None = typer.Option(None, help="date for claim validity, YYYY-MM-DD"),
    as_json: bool = JsonOpt,
) -> None:
    """Lint a guide: schema, then its own examples and fallbacks against its rules.

    Exit 0 when valid, 1 when a 'do' example or fallback line breaks a rule,
    2 when the file does not validate (the error names the field and the fix)."""
    if file.exists():
        guide = parse_guide_text(file.read_text(encoding="utf-8"), file)
    else:
        guide = load_guide(str(file))
    report = lint_guide(guide, str(file), send_date=_parse_date(send_date))
    if as_json:
        emit_json(report.model_dump(mode="json") | {"ok": report.ok})
    else:
        status = "[green]ok[/green]" if report.ok else "[red]problems[/red]"
        console.print(
            f"{file}: {status} — {guide.name} v{guide.version}, {report.rule_count} rules, "
            f"{len(guide.claims.registry)} claims",
            highlight=False,
        )
        for f in report.findings:
            colour = "red" if f.level == "error" else "yellow"
            rules = f" [{', '.join(f.rules)}]" if f.rules else ""
            console.print(
                f"  [{colour}]{f.level}[/{colour}] {f.where}: {f.message}{rules}", highlight=False
            )
    if not report.ok:
        raise typer.Exit(1)


@brand_app.command("show")
@handle_errors
def show_cmd(name: str = typer.Argument(..., help="brand id"), as_json: bool = JsonOpt) -> None:
    """Print a guide as validated (defaults filled in)."""
    guide = load_guide(name)
    if as_json:
        emit_json(guide)
    else:
        console.print(guide.model_dump(exclude_defaults=True))


@brand_app.command("import-style-guide")
@handle_errors
def import_cmd(
    folder: Path = typer.Argument(..., help="folder with the 18F content guide Markdown pages"),
    out: Path | None = typer.Option(None, help="output YAML (default: brand_guides/<id>.yaml)"),
    guide_id: str = typer.Option("plainspoken-18f", "--id", help="brand id (file stem)"),
    name: str = typer.Option("Plainspoken (18F Content Guide)", help="display name"),
    as_json: bool = JsonOpt,
) -> None:
    """Turn the 18F style guide's word list and rules into a checkable brand guide."""
    data = import_style_guide(folder, guide_id=guide_id, name=name)
    path = out or Path(get_settings().brand_guides_dir) / f"{guide_id}.yaml"
    write_guide(data, path)
    counts = {k: len(data[k]) for k in ("banned_terms", "preferred_terms", "casing", "patterns")}
    if as_json:
        emit_json({"file": str(path), **counts})
    else:
        console.print(f"wrote {path}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def guard_cmd(
    text: str = typer.Argument(..., help="the copy to check"),
    brand: str | None = typer.Option(None, "--brand", "-b", help="brand id (default: settings)"),
    kind: str = typer.Option(
        "subject_line", "--kind", "-k", help="subject_line, hero or chat_answer"
    ),
    channel: str | None = typer.Option(None, help="email, web or chat (default: by kind)"),
    send_date: str | None = typer.Option(None, help="date for claim validity, YYYY-MM-DD"),
    as_json: bool = JsonOpt,
) -> None:
    """Check one line against a brand guide. Exit 0 when it passes, 1 on a blocking violation."""
    if kind not in KINDS:
        raise InputError(f"unknown --kind {kind!r}", fix=f"use one of {', '.join(KINDS)}")
    if channel is not None and channel not in ("email", "web", "chat"):
        raise InputError(f"unknown --channel {channel!r}", fix="use email, web or chat")
    guide = load_guide(brand or get_settings().default_brand)
    report = check(text, guide, kind=kind, channel=channel, send_date=_parse_date(send_date))  # type: ignore[arg-type]
    if as_json:
        emit_json(
            {
                "brand": guide.id,
                "kind": kind,
                "passed": report.passed,
                "violations": [v.model_dump(mode="json") for v in report.violations],
                "elapsed_ms": report.elapsed_ms,
            }
        )
    else:
        if not report.violations:
            console.print(f"[green]pass[/green] ({guide.id}, {kind})", highlight=False)
        for v in report.violations:
            colour = "red" if v.severity == "block" else "yellow"
            span = f' "{v.span.text}"' if v.span else ""
            fix = f" — fix: {v.suggestion}" if v.suggestion else ""
            console.print(
                f"[{colour}]{v.severity}[/{colour}] {v.rule_id}{span}: {v.message}{fix}",
                highlight=False,
                soft_wrap=True,
            )
    if not report.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(brand_app, name="brand")
    app.command("guard")(handle_errors(guard_cmd))
