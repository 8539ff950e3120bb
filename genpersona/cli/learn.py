"""`genpersona learn update|train|evaluate`: the learning loop from a terminal (or Celery beat)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors
from genpersona.clickmodel.gate import GateDecision
from genpersona.clickmodel.model import model_if_trained
from genpersona.clickmodel.train import (
    OutcomeExample,
    model_root,
    pretrain,
    update_on_exposures,
    update_on_outcomes,
)
from genpersona.db.engine import session_scope
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import LearningInputError
from genpersona.learning.clickdata import exposure_examples
from genpersona.learning.evaluate import evaluate_campaigns
from genpersona.learning.exemplar_outcomes import refresh_exemplar_outcomes
from genpersona.learning.policy import LatestThompson, WeightsPolicy, forget_campaign_policies
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
    """Recompute the campaign segment's allocation over recipes from its exposures and clicks,
    and each exemplar's exposures and clicks (retrieval weights few-shot examples by them)."""
    brand = brand or get_settings().default_brand
    if (campaign is None) == (not all_campaigns):
        raise LearningInputError(
            "say which campaign to update", fix="pass --campaign NAME or --all (not both)"
        )
    config = PolicyConfig(floor=floor)
    window = timedelta(days=window_days)
    model = model_if_trained(model_root(get_settings()))
    with session_scope() as session:
        if all_campaigns:
            allocs = learn_update_all(
                session, brand, config=config, window=window, click_model=model
            )
        else:
            allocs = [
                learn_update(
                    session, brand, campaign, config=config, window=window, click_model=model
                )
            ]
        changed = refresh_exemplar_outcomes(session, brand, window=window)
    forget_campaign_policies()
    if as_json:
        emit_json([a.model_dump(mode="json") for a in allocs] if all_campaigns else allocs[0])
        return
    for alloc in allocs:
        _print_allocation(brand, alloc)
    console.print(f"exemplar outcomes updated: {changed} exemplar(s) changed")


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
    from_exposures: bool = typer.Option(
        False,
        "--from-exposures",
        help="Update the latest model on the brand's exposures and clicks in the database "
        "(copy, recipe and customer features), instead of pretraining.",
    ),
    brand: str = BrandOpt,
    campaigns: list[str] = typer.Option(
        None, "--campaign", help="With --from-exposures: only these campaigns (repeatable)."
    ),
    window_days: float = WindowOpt,
    force: bool = typer.Option(
        False, "--force", help="Move LATEST to the new version even if the gate says no."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Train a candidate click model (pretrain on Upworthy, or update the latest on a brand's
    outcomes) and promote it to LATEST only if it ranks held-out outcomes better."""
    settings = get_settings()
    if outcomes is not None and from_exposures:
        raise LearningInputError(
            "--outcomes and --from-exposures are two different updates",
            fix="pass one of them (or neither, to pretrain on the Upworthy archive)",
        )
    if campaigns and not from_exposures:
        raise LearningInputError(
            "--campaign chooses which exposures to train on",
            fix="add --from-exposures (pretraining and --outcomes read no campaign)",
        )
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
        model, decision = update_on_outcomes(
            settings, embedder, examples, source=str(outcomes), force=force
        )
    elif from_exposures:
        brand = brand or settings.default_brand
        with session_scope(settings) as session:
            rows = exposure_examples(
                session, brand, _names(campaigns) or None, window=timedelta(days=window_days)
            )
        source = f"exposures:{brand}:{len(rows)}"
        model, decision = update_on_exposures(settings, embedder, rows, source=source, force=force)
    else:
        model, decision = pretrain(settings, embedder, data_dir=data, force=force)
    if as_json:
        emit_json(
            {
                "model": model.meta.model_dump(mode="json"),
                "decision": decision.model_dump(mode="json"),
            }
        )
        return
    console.print(f"click model {model.meta.version} trained on {model.meta.n_train} rows")
    _print_gate(decision)


def _print_gate(decision: GateDecision) -> None:
    table = Table(title=f"promotion gate ({decision.metric} on {decision.holdout})")
    for col in ("model", "version", "value", "95% low", "95% high", "units"):
        table.add_column(col)
    for label, version, score in (
        ("candidate", decision.candidate_version, decision.candidate),
        ("current", decision.current_version, decision.current),
    ):
        if score is not None:
            table.add_row(
                label,
                version or "",
                f"{score.value:.4f}",
                f"{score.low:.4f}",
                f"{score.high:.4f}",
                str(score.units),
            )
    console.print(table)
    verdict = "PROMOTED" if decision.promote else "not promoted"
    console.print(f"{verdict}: {decision.reason}; LATEST = {decision.latest or 'none'}")


def _names(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated names, in order, without duplicates."""
    out = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    return list(dict.fromkeys(out))


@learn_app.command("evaluate")
@handle_errors
def evaluate_cmd(
    policy: str = typer.Option(
        ...,
        "--policy",
        help="JSON policy file (recipe_weights), or 'thompson' for each campaign's latest "
        "allocation.",
    ),
    campaigns: list[str] = typer.Option(
        ...,
        "--campaign",
        help="Campaign whose exposure log to use; repeat (or comma-separate) to pool several.",
    ),
    brand: str = BrandOpt,
    estimator: str = typer.Option("dr", "--estimator", help="ips, snips or dr for promotion."),
    window_days: float = WindowOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Off-policy estimates of a candidate policy with 95% intervals over the pooled logs of
    the campaigns, and the promotion decision: a promoted policy is what delivery then uses
    for those campaigns."""
    brand = brand or get_settings().default_brand
    names = _names(campaigns)
    with session_scope() as session:
        candidate: WeightsPolicy | LatestThompson
        if policy == "thompson":
            candidate = LatestThompson(session, brand)
        else:
            candidate = WeightsPolicy.from_file(Path(policy))
        kinds = {name: segment_key(session, brand, name)[0] for name in names}
        report = evaluate_campaigns(
            session,
            brand,
            names,
            candidate,
            kinds=kinds,
            estimator=estimator,
            window=timedelta(days=window_days),
        )
    forget_campaign_policies()
    if as_json:
        emit_json(report)
        return
    title = f"{report.candidate} on {brand}/{report.campaign} ({report.n} exposures)"
    table = Table(title=title)
    for col in ("estimator", "value", "95% low", "95% high"):
        table.add_column(col)
    for est in report.estimates.values():
        table.add_row(est.estimator, f"{est.value:.4f}", f"{est.low:.4f}", f"{est.high:.4f}")
    cur = report.decision.current
    table.add_row("current (on-policy)", f"{cur.value:.4f}", f"{cur.low:.4f}", f"{cur.high:.4f}")
    console.print(table)
    if report.decision.promote:
        console.print(
            f"PROMOTE: {report.decision.reason}; delivery now uses {report.candidate} for "
            f"{report.campaign}"
        )
    else:
        console.print(f"keep current: {report.decision.reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(learn_app, name="learn")
