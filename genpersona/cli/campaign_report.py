"""``genpersona campaign report``: outcomes per variant and the lift over the holdout.

A module of its own that adds one command to the ``campaign`` group, so the
report and the export commands grow without editing each other.
"""

from __future__ import annotations

import typer
from rich.table import Table

from genpersona.cli.campaign import campaign_app
from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


@campaign_app.command("report")
@handle_errors
def report(
    name: str = typer.Option(..., "--name", help="Campaign name."),
    brand: str | None = typer.Option(None, "--brand", help="Brand slug; default from settings."),
    as_json: bool = JsonOpt,
) -> None:
    """Sends, human opens, clicks, conversions, unsubscribes; ITT lift with 95% intervals."""
    from genpersona.delivery.report import COUNTED, campaign_report

    result = campaign_report(name, brand)
    if as_json:
        emit_json(result)
        return
    columns = ["exposures", *COUNTED, "machine_opens"]
    table = Table("arm", "variant", "prompt", *columns, title=f"{result.brand}/{result.campaign}")
    for row in result.rows:  # the holdout is one row: it has no variants
        variant = (
            "" if row.arm == "holdout" else ("generic" if row.reason else str(row.variant_index))
        )
        table.add_row(
            row.arm,
            variant,
            row.prompt_version or (row.reason or ""),
            *(str(getattr(row, c)) for c in columns),
        )
    table.add_row(
        "[bold]personalized[/bold]",
        "all",
        "",
        *(str(getattr(result.personalized, c)) for c in columns),
    )
    console.print(table)
    lifts = Table("metric", "personalized", "holdout", "lift (abs)", "95% interval", "relative")
    for lift in result.lift:
        interval = (
            "—"
            if lift.low is None or lift.high is None
            else f"[{100 * lift.low:+.2f}, {100 * lift.high:+.2f}] pp"
        )
        lifts.add_row(
            lift.metric,
            f"{_pct(lift.personalized.rate)} [{_pct(lift.personalized.low)}, {_pct(lift.personalized.high)}]",
            f"{_pct(lift.holdout.rate)} [{_pct(lift.holdout.low)}, {_pct(lift.holdout.high)}]",
            "—" if lift.difference is None else f"{100 * lift.difference:+.2f} pp",
            interval,
            "—" if lift.relative is None else f"{100 * lift.relative:+.1f}%",
        )
    console.print(lifts)
    console.print(
        f"intent-to-treat, per exposure; {result.method}; conversions = purchases within "
        f"{result.attribution_window_days:g} days of the exposure",
        markup=False,
        highlight=False,
    )
