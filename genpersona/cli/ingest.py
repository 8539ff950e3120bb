"""`genpersona ingest online-retail|events PATH --brand NAME`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.data.ingest_events import ingest_events
from genpersona.data.ingest_online_retail import IngestReport, ingest_online_retail
from genpersona.delivery.attribution import attribute_purchases
from genpersona.recs.store import fit_recommender
from genpersona.settings import get_settings

ingest_app = typer.Typer(
    help="Load customer data: the UCI demo parquet or your own events.", no_args_is_help=True
)
BrandOpt = typer.Option(None, "--brand", help="Brand slug (default: GENPERSONA_DEFAULT_BRAND).")


def _show(report: IngestReport, as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    table = Table("what", "count", title=f"ingest {report.source} -> brand {report.brand}")
    for label, value in (
        ("file rows", report.rows),
        ("customers", report.customers),
        ("new customers", report.new_customers),
        ("guest rows (not customers)", report.guest_rows),
        ("catalog products", report.products),
        *((f"{k} events", v) for k, v in report.events.items()),
        ("events written now", report.events_written),
        ("profiles", report.profiles),
        ("memory facts", report.memory_facts),
        ("new memory facts", report.memory_facts_new),
        *((f"themes by {k}", v) for k, v in report.themes.items()),
    ):
        table.add_row(label, str(value))
    console.print(table)
    console.print(f"recommender: {report.recommender or 'not fitted'}")
    console.print("seconds: " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()))


@ingest_app.command("online-retail")
@handle_errors
def online_retail_cmd(
    path: Path = typer.Argument(..., help="online_retail.parquet (UCI Online Retail)."),
    brand: str = BrandOpt,
    name: str = typer.Option(None, "--name", help="Display name of a new brand."),
    no_demo_consent: bool = typer.Option(
        False, "--no-demo-consent", help="New customers get no consent (default: all purposes)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Load the UCI parquet: catalog, themes, customers, purchases/returns, profiles, memories."""

    report = ingest_online_retail(
        path,
        brand or get_settings().default_brand,
        brand_name=name,
        demo_consent=not no_demo_consent,
        fit_recs=fit_recommender,
        show_progress=not as_json,
    )
    _show(report, as_json)


@ingest_app.command("events")
@handle_errors
def events_cmd(
    path: Path = typer.Argument(
        ..., help="CSV or JSON Lines file of events (schema: docs/guides/customers-and-privacy.md)."
    ),
    brand: str = BrandOpt,
    source: str = typer.Option(None, "--source", help="Name of this feed (default: file name)."),
    fmt: str = typer.Option(None, "--format", help="csv or jsonl (default: from the extension)."),
    consent: str = typer.Option(
        "",
        "--consent",
        help="Purposes new customers consented to: personalization,email,chat_memory.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Load your own events (idempotent: re-running adds only new events)."""

    purposes = tuple(p.strip() for p in consent.split(",") if p.strip())
    brand = brand or get_settings().default_brand
    report = ingest_events(
        path,
        brand,
        source=source,
        fmt=fmt,
        consent=purposes,
        fit_recs=fit_recommender,
        show_progress=not as_json,
    )
    converted = attribute_purchases(brand)  # purchases after an exposure are its conversions
    _show(report, as_json)
    if converted and not as_json:
        err_console.print(f"{converted} purchases attributed to exposures as conversions")


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
