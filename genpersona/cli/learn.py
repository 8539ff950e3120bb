"""`genpersona learn update|train|evaluate`: the learning loop from a terminal (or Celery beat)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors
from genpersona.db.engine import session_scope
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import LearningInputError
from genpersona.learning.clickmodel.train import OutcomeExample, pretrain, update_on_outcomes
from genpersona.learning.evaluate import evaluate_campaign
from genpersona.learning.policy import WeightsPolicy
from genpersona.learning.thompson import PolicyConfig
from genpersona.learning.update import Allocation, learn_update, learn_update_all, segment_key
from genpersona.settings import get_settings

learn_app = typer.Typer(help="Learn from outcomes: allocations, click model, evaluation.")
BrandOpt = typer.Option(None, "--brand", help="Brand slug (default: GENPERSONA_DEFAULT_BRAND).")
WindowOpt = typer.Option(7.0, "--window-days", help="Attribution window for a click, in days.")


@learn_app.command("update")
@handle_errors
def update_cmd(
    campaign: str = typer.Option(None, "--campaign", help="Campaign name."),
    all_campaigns: bool = typer.Option(
        False, "--all", help="Every campaign of the brand with exposures (for Celery beat)."
    ),
    brand: str = BrandOpt,
    window_days: float = WindowOpt,
    floor: float = typer.Option(0.05, "--floor", help="Minimum share of every eligible recipe."),
    as_json: bool = JsonOpt,
) -> None:
    """Recompute the campaign segment's allocation over recipes from its exposures and clicks."""
    brand = brand or get_settings().default_brand
    if (campaign is None) == (not all_campaigns):
        raise LearningInputError(
            "say which campaign to update", fix="pass --campaign NAME or --all (not both)"
        )
    config = PolicyConfig(floor=floor)
    window = timedelta(days=window_days)
    with session_scope() as session:
        if all_campaigns:
            allocs = learn_update_all(session, brand, config=config, window=window)
        else:
            allocs = [learn_update(session, brand, campaign, config=config, window=window)]
    if as_json:
        emit_json([a.model_dump(mode="json") for a in allocs] if all_campaigns else allocs[0])
        return
    for alloc in allocs:
        _print_allocation(brand, alloc)


def _print_allocation(brand: str, alloc: Allocation) -> None:
    campaign = alloc.campaign
    table = Table(title=f"allocation v{alloc.version} for {brand}/{campaign} ({alloc.kind})")
    for col in ("recipe", "exposures", "clicks", "share", "P(best)", "exp. loss", "retired"):
        table.add_column(col)
    for a in alloc.arms:
        table.add_row(
            a.recipe_id,
            str(a.impressions),
            str(a.clicks),
            f"{a.p:.3f}",
            f"{a.p_best:.3f}",
            f"{a.expected_loss:.5f}",
            "yes" if a.retired else "",
        )
    console.print(table)
    if alloc.warmup:
        console.print("warm-up: an even split until every recipe has enough exposures")


@learn_app.command("train")
@handle_errors
def train_cmd(
    data: Path = typer.Option(None, "--data", help="Folder with the Upworthy archive."),
    outcomes: Path = typer.Option(
        None,
        "--outcomes",
        help="CSV of a brand's own results (text, impressions, clicks, group) to update the "
        "latest model on, instead of pretraining.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Pretrain the click model on Upworthy, or update the latest one on a brand's outcomes."""
    settings = get_settings()
    embedder = get_embedder(settings=settings)
    if outcomes is not None:
        try:
            frame = pd.read_csv(outcomes, dtype={"group": str, "text": str})
            examples = [OutcomeExample.model_validate(r) for r in frame.to_dict("records")]
        except Exception as exc:
            raise LearningInputError(
                f"cannot read outcomes from {outcomes}: {exc}",
                fix="a CSV with columns text, impressions, clicks, group (clicks <= impressions)",
                path=str(outcomes),
            ) from exc
        model = update_on_outcomes(settings, embedder, examples, source=str(outcomes))
    else:
        model = pretrain(settings, embedder, data_dir=data)
    if as_json:
        emit_json(model.meta)
    else:
        console.print(f"click model {model.meta.version} trained on {model.meta.n_train} rows")


@learn_app.command("evaluate")
@handle_errors
def evaluate_cmd(
    policy: Path = typer.Option(..., "--policy", help="JSON policy file (recipe_weights)."),
    campaign: str = typer.Option(..., "--campaign", help="Campaign whose exposure log to use."),
    brand: str = BrandOpt,
    estimator: str = typer.Option("dr", "--estimator", help="ips, snips or dr for promotion."),
    window_days: float = WindowOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Off-policy estimates of a candidate policy with 95% intervals, and the promotion decision."""
    brand = brand or get_settings().default_brand
    candidate = WeightsPolicy.from_file(policy)
    with session_scope() as session:
        kind, _ = segment_key(session, brand, campaign)
        report = evaluate_campaign(
            session,
            brand,
            campaign,
            candidate,
            kind=kind,
            estimator=estimator,
            window=timedelta(days=window_days),
        )
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"{report.candidate} on {brand}/{campaign} ({report.n} exposures)")
    for col in ("estimator", "value", "95% low", "95% high"):
        table.add_column(col)
    for est in report.estimates.values():
        table.add_row(est.estimator, f"{est.value:.4f}", f"{est.low:.4f}", f"{est.high:.4f}")
    cur = report.decision.current
    table.add_row("current (on-policy)", f"{cur.value:.4f}", f"{cur.low:.4f}", f"{cur.high:.4f}")
    console.print(table)
    verdict = "PROMOTE" if report.decision.promote else "keep current"
    console.print(f"{verdict}: {report.decision.reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(learn_app, name="learn")
