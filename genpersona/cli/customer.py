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
    as_json: bool = JsonOpt,
) -> None:
    """Delete every row, vector and derived text about the customer."""

    if not yes:
        raise InputError(
            f"erasing customer {customer_id!r} cannot be undone",
            fix="re-run with --yes to confirm (export first if you need a copy)",
        )
    report = erase_customer(_brand(brand), customer_id)
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
