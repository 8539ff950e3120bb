"""``genpersona campaign run|list|export``: unattended draft generation for a segment, and its export."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from genpersona.campaigns.batch_runner import run_campaign_batched
from genpersona.campaigns.segments import Segment
from genpersona.campaigns.store import list_runs
from genpersona.cli.campaign_automation import add_commands, add_review_policy_commands, run_stored
from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.delivery.export import export_campaign, read_address_book
from genpersona.errors import SegmentError
from genpersona.learning.policy import campaign_policy
from genpersona.settings import get_settings

campaign_app = typer.Typer(help="Generate drafts for a whole segment into the review queue.")


@campaign_app.command("run")
@handle_errors
def run(
    name: str = typer.Option(..., "--name", help="Campaign name, e.g. xmas-2026 (idempotency)."),
    brief: str | None = typer.Option(
        None, "--brief", help="What the campaign is about (omit to run the stored definition)."
    ),
    scheduled: bool = typer.Option(
        False, "--scheduled", help="Stored definition: run as its latest scheduled period, once."
    ),
    brand: str | None = typer.Option(None, "--brand", help="Brand slug; default from settings."),
    kind: str = typer.Option("subject_line", "--kind", help="subject_line or hero."),
    country: str | None = typer.Option(None, "--segment-country", help="e.g. 'United Kingdom'."),
    theme: str | None = typer.Option(None, "--theme", help="A favourite theme, e.g. christmas."),
    max_recency: int | None = typer.Option(
        None, "--max-recency-days", help="Bought within N days."
    ),
    min_frequency: int | None = typer.Option(None, "--min-frequency", help="At least N orders."),
    min_monetary: float | None = typer.Option(None, "--min-monetary", help="Spent at least this."),
    email_consent: bool = typer.Option(
        False, "--require-email-consent", help="Only customers who agreed to email."
    ),
    limit: int | None = typer.Option(None, "--limit", help="At most N customers."),
    n: int = typer.Option(3, "--n", help="Variants per customer (1-10)."),
    distributed: bool = typer.Option(
        False, "--distributed", help="Fan out over Celery (GENPERSONA_CELERY_BROKER_URL)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Generate one draft per customer of the segment; re-running skips pending drafts.

    Without --brief, runs the stored definition named --name (see `campaign apply`).
    """
    if brief is None:
        run_stored(name, brand, scheduled, as_json)
        return

    if kind not in {"subject_line", "hero"}:
        raise SegmentError(
            f"--kind {kind!r} is not a campaign kind", fix="use subject_line or hero"
        )
    try:
        segment = Segment(
            country=country,
            theme=theme,
            max_recency_days=max_recency,
            min_frequency=min_frequency,
            min_monetary=min_monetary,
            require_email_consent=email_consent,
            limit=limit,
        )
    except ValidationError as exc:
        raise SegmentError(
            f"invalid segment: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}",
            fix="use non-negative thresholds and a --limit of at least 1",
        ) from None
    brand = brand or get_settings().default_brand
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    )
    with progress:
        task = progress.add_task(f"{name}", total=None, failed=0)
        failed = 0

        def on_result(result) -> None:
            nonlocal failed
            failed += result.status == "failed"
            progress.update(task, advance=1, failed=failed)

        report = run_campaign_batched(
            brand,
            kind,  # type: ignore[arg-type]
            segment,
            brief,
            name,
            n,
            distributed=distributed,
            on_start=lambda total: progress.update(task, total=total),
            on_result=on_result,
        )
    if as_json:
        emit_json(report)
        return
    console.print(
        f"run {report.run_id} [{report.status}] {report.brand}/{report.name}: "
        f"{report.targeted} customers, {report.generated} generated, "
        f"{report.skipped} skipped (already pending), {report.failed} failed",
        markup=False,
        highlight=False,
    )
    failures = [r for r in report.results if r.status == "failed"]
    if failures:
        table = Table("customer", "error", "message", title="failed customers")
        for r in failures[:20]:
            table.add_row(r.customer_id, r.error or "", r.message or "")
        console.print(table)
        if len(failures) > 20:
            console.print(f"... and {len(failures) - 20} more (see --json)")
    if report.status == "failed":
        raise typer.Exit(1)


@campaign_app.command("list")
@handle_errors
def list_(
    brand: str | None = typer.Option(None, "--brand", help="Only this brand's runs."),
    limit: int = typer.Option(20, "--limit", help="Most recent N runs."),
    as_json: bool = JsonOpt,
) -> None:
    """Recent campaign runs with their counts."""

    runs = list_runs(brand, limit)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in runs])
        return
    table = Table("run", "campaign", "segment", "status", "gen/skip/fail", "started")
    for r in runs:
        mode = ", distributed" if r.distributed else ""
        table.add_row(
            str(r.id),
            f"{r.brand}/{r.name} ({r.kind}{mode})",
            Segment.model_validate(r.segment).describe(),
            r.status,
            f"{r.generated}/{r.skipped}/{r.failed} of {r.targeted}",
            r.started_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table if runs else "no campaign runs yet")


@campaign_app.command("export")
@handle_errors
def export(
    out: Path = typer.Argument(..., help="File to write (replaced atomically)."),
    name: str = typer.Option(..., "--name", help="Campaign name, e.g. xmas-2026."),
    fmt: str = typer.Option("csv", "--format", help="csv, jsonl, sendgrid or klaviyo."),
    status: str = typer.Option(
        "approved", "--status", help="approved (approved or edited drafts) or edited."
    ),
    brand: str | None = typer.Option(None, "--brand", help="Brand slug; default from settings."),
    emails: Path | None = typer.Option(
        None, "--emails", help="CSV customer_id,email (genpersona stores no addresses)."
    ),
    from_email: str | None = typer.Option(None, "--from-email", help="SendGrid sender address."),
    template_id: str | None = typer.Option(
        None, "--template-id", help="SendGrid dynamic template id (d-...)."
    ),
    klaviyo_list: str | None = typer.Option(
        None, "--klaviyo-list", help="Klaviyo list id the imported profiles join."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """One row per recipient with merge columns and ids; logs an exposure per recipient."""
    settings = get_settings()
    brand = brand or settings.default_brand
    report = export_campaign(
        brand,
        name,
        fmt,
        out,
        status=status,
        emails=read_address_book(emails) if emails else None,
        sendgrid_from=from_email,
        sendgrid_template=template_id,
        klaviyo_list=klaviyo_list,
        settings=settings,
        # the same learned allocation as the pull endpoint (uniform before `learn update`)
        policy=campaign_policy(brand, name, settings),
    )
    if as_json:
        emit_json(report)
        return
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(report.skipped.items())) or "none"
    bodies = f" in {report.bodies} request bodies" if report.bodies else ""
    console.print(
        f"{report.brand}/{report.campaign}: {report.rows} recipients{bodies} -> {report.path} "
        f"({report.personalized} personalized, {report.holdout} holdout, "
        f"{report.generic} generic copy); skipped: {skipped}",
        markup=False,
        highlight=False,
    )


add_commands(campaign_app)
add_review_policy_commands(campaign_app)


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")
