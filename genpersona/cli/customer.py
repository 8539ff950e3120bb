"""`genpersona customer export|erase|opt-out|reset|context ID`: the customer's data controls."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors
from genpersona.context.retrieval import context_for
from genpersona.customers.rights import erase_customer, export_customer, reset_customer, set_opt_out
from genpersona.errors import InputError
from genpersona.settings import get_settings

customer_app = typer.Typer(
    help="A customer's data: export, erase, opt-out, reset, context.", no_args_is_help=True
)
BrandOpt = typer.Option(None, "--brand", help="Brand slug (default: GENPERSONA_DEFAULT_BRAND).")


def _brand(brand: str | None) -> str:
    return brand or get_settings().default_brand


@customer_app.command("export")
@handle_errors
def export_cmd(
    customer_id: str,
    brand: str = BrandOpt,
    out: Path = typer.Option(None, "--out", help="Write the JSON to this file instead of stdout."),
    as_json: bool = JsonOpt,
) -> None:
    """Everything held about the customer, as JSON (with --out: the file, and a summary)."""

    data = export_customer(_brand(brand), customer_id)
    if out is not None:
        out.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        summary = {
            "file": str(out),
            "events": len(data["events"]),
            "memory_facts": len(data["memory_facts"]),
        }
        if as_json:
            emit_json(summary)
            return
        console.print(
            f"exported {len(data['events'])} events, {len(data['memory_facts'])} memory facts to {out}"
        )
    else:
        emit_json(data)


@customer_app.command("erase")
@handle_errors
def erase_cmd(
    customer_id: str,
    brand: str = BrandOpt,
    yes: bool = typer.Option(False, "--yes", help="Confirm: erasing cannot be undone."),
    defer: bool = typer.Option(
        False, "--defer", help="Leave the compaction pending for `genpersona customer compact`."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Delete every row, vector and derived text about the customer."""

    if not yes:
        raise InputError(
            f"erasing customer {customer_id!r} cannot be undone",
            fix="re-run with --yes to confirm (export first if you need a copy)",
        )
    report = erase_customer(_brand(brand), customer_id, compact=not defer)
    if as_json:
        emit_json(report)
        return
    table = Table("removed", "count", title=f"erased customer {customer_id}")
    for name, n in report.rows.items():
        table.add_row(name, str(n))
    table.add_row("vectors", str(report.vectors_deleted))
    console.print(table)
    console.print(
        f"recommender refitted: {report.recommender_refitted}; database compacted: {report.vacuumed}"
    )


@customer_app.command("compact")
@handle_errors
def compact_cmd(
    force: bool = typer.Option(
        False, "--force", help="Run even if no erase is pending (migrates an older home)."
    ),
    full: bool = typer.Option(False, "--full", help="PostgreSQL: VACUUM FULL (locks tables)."),
    no_wait: bool = typer.Option(
        False,
        "--no-wait",
        help="Exit at once if another compaction of this home is running (cron).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Finish pending erasures: refit, rebuild vector collections, scrub files, VACUUM."""
    from genpersona.customers.compaction import run_pending

    report = run_pending(force=force, full=full, wait=not no_wait)
    if as_json:
        emit_json(report)
        return
    if report.skipped:
        console.print("another compaction of this home is running; nothing done")
        return
    for r in report.rebuilt:
        console.print(f"{r.collection}: now {r.physical}, kept {r.kept}, dropped {r.dropped}")
    if report.scrub is not None:
        console.print(f"vector store files scrubbed: {report.scrub.done} {report.scrub.note}")
    console.print(f"database vacuumed: {report.database_vacuumed}; {report.seconds} s")


@customer_app.command("scrub-chroma-dir")
@handle_errors
def scrub_dir_cmd(
    path: Path,
    as_json: bool = JsonOpt,
) -> None:
    """On a Chroma server's machine (server stopped, after `chroma vacuum`): remove dropped
    collections' segment directories and VACUUM its chroma.sqlite3."""
    from genpersona.vectors.chroma_scrub import scrub_directory

    if not (path / "chroma.sqlite3").exists():
        raise InputError(
            f"{path} is not a Chroma directory (no chroma.sqlite3)",
            fix="pass the directory the server was started with (`chroma run --path DIR`)",
        )
    report = scrub_directory(path)
    if as_json:
        emit_json(report)
        return
    console.print(f"removed {report.removed_dirs} unreferenced segment dirs; vacuumed")


@customer_app.command("opt-out")
@handle_errors
def opt_out_cmd(
    customer_id: str,
    brand: str = BrandOpt,
    undo: bool = typer.Option(False, "--undo", help="Opt back in to personalization."),
    as_json: bool = JsonOpt,
) -> None:
    """Stop (or resume) personalization; context then carries nothing personal."""

    consent = set_opt_out(_brand(brand), customer_id, opted_out=not undo)
    if as_json:
        emit_json(consent)
    else:
        console.print(
            f"customer {customer_id}: personalization {'on' if consent.personalization else 'off'}"
        )


@customer_app.command("reset")
@handle_errors
def reset_cmd(customer_id: str, brand: str = BrandOpt, as_json: bool = JsonOpt) -> None:
    """Forget learned preferences and memory facts; purchases are kept."""

    report = reset_customer(_brand(brand), customer_id)
    if as_json:
        emit_json(report)
    else:
        console.print(
            f"customer {customer_id}: {report.memory_facts_deleted} memory facts and "
            f"{'the' if report.profile_deleted else 'no'} profile removed; learning restarts "
            f"from {report.learning_since:%Y-%m-%d %H:%M}"
        )


@customer_app.command("context")
@handle_errors
def context_cmd(
    customer_id: str,
    brief: str = typer.Option(..., "--brief", help="The campaign brief to rank memories against."),
    brand: str = BrandOpt,
    k_memories: int = typer.Option(5, "--memories"),
    k_items: int = typer.Option(6, "--items"),
    as_json: bool = JsonOpt,
) -> None:
    """What the agent would know about the customer for this brief."""

    bundle = context_for(_brand(brand), customer_id, brief, k_memories=k_memories, k_items=k_items)
    if as_json:
        emit_json(bundle)
        return
    console.print(f"personalized: {bundle.personalized}  consent: {bundle.consent.model_dump()}")
    if bundle.profile:
        console.print(bundle.profile.model_dump(exclude_none=True))
    for m in bundle.memories:
        console.print(f"  memory {m.score:+.2f}  {m.text}")
    for r in bundle.recommendations:
        why = f" because of {', '.join(r.evidence.stock_codes)}" if r.evidence.stock_codes else ""
        console.print(f"  item {r.stock_code} {r.description} ({r.reason}{why})")


def register(app: typer.Typer) -> None:
    app.add_typer(customer_app, name="customer")
