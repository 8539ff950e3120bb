"""``learn update``: recompute and store a segment's allocation over its recipes.

The key is (brand, content kind, segment), read from the campaign's run. The
prior comes from the brand's *other* campaigns of the same kind (empirical
Bayes over how far recipes of one segment spread around its rate), and each
recipe's prior mean is tilted by the click model's predictions for the copy it
wrote (``recipe_lift``), so a recipe with few exposures starts from a prediction
instead of from the segment's average. The seed of
the Monte Carlo is derived from the key and the new version, so the stored
probabilities are reproducible and are exactly what the delivery samples from.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from genpersona.campaigns.tables import CampaignRunRow
from genpersona.clickmodel.features import CustomerFeatures
from genpersona.clickmodel.model import ClickModel
from genpersona.delivery.tables import ExposureRow
from genpersona.errors import LearningInputError, NoAllocation
from genpersona.learning.clickdata import customer_features
from genpersona.learning.logs import arm_counts, campaign_log
from genpersona.learning.tables import AllocationRow
from genpersona.learning.thompson import (
    BetaPrior,
    PolicyConfig,
    allocate_batch,
    arm_priors,
    fit_grouped_prior,
)
from genpersona.review.tables import DraftRow, DraftVariantRow


class ArmAllocation(BaseModel):
    recipe_id: str
    impressions: int
    clicks: int
    p: float
    p_best: float
    expected_loss: float
    retire_cost: float
    retired: bool
    #: the click model's tilt of this recipe's prior mean (1.0 = none; see ``recipe_lift``)
    click_lift: float = 1.0


class Allocation(BaseModel):
    id: int | None = None
    brand: str
    kind: str
    segment: str
    campaign: str | None
    version: int
    seed: int
    warmup: bool
    prior: dict[str, float]
    config: dict[str, Any]
    arms: list[ArmAllocation]

    @property
    def policy_version(self) -> str:
        return f"a{self.version}"

    def weights(self) -> dict[str, float]:
        return {a.recipe_id: a.p for a in self.arms}

    @classmethod
    def from_row(cls, row: AllocationRow) -> Allocation:
        return cls(
            id=row.id,
            brand=row.brand,
            kind=row.kind,
            segment=row.segment,
            campaign=row.campaign,
            version=row.version,
            seed=row.seed,
            warmup=row.warmup,
            prior=dict(row.prior),
            config=dict(row.config),
            arms=[ArmAllocation.model_validate(a) for a in row.arms],
        )


def segment_key(session: Session, brand: str, campaign: str) -> tuple[str, str]:
    """(kind, segment) of the campaign's latest run; a campaign never run is keyed by name."""
    run = session.scalars(
        select(CampaignRunRow)
        .where(CampaignRunRow.brand == brand, CampaignRunRow.name == campaign)
        .order_by(CampaignRunRow.started_at.desc())
        .limit(1)
    ).first()
    if run is None:
        return "any", json.dumps({"campaign": campaign})
    return run.kind, json.dumps(run.segment or {"campaign": campaign}, sort_keys=True)


def history_prior(session: Session, brand: str, campaign: str, window: timedelta) -> BetaPrior:
    """EB prior from the brand's other campaigns: each campaign is one past segment."""
    by_campaign: dict[str, dict[str, tuple[int, int]]] = {}
    log = [e for e in campaign_log(session, brand, None, window=window) if e.campaign != campaign]
    for name in {e.campaign for e in log}:
        by_campaign[name] = arm_counts([e for e in log if e.campaign == name])
    rows = [list(v.values()) for v in by_campaign.values() if len(v) >= 2]
    if len(rows) < 2:
        return BetaPrior.uniform()
    k = max(len(r) for r in rows)
    n = np.zeros((len(rows), k))
    c = np.zeros((len(rows), k))
    mask = np.zeros((len(rows), k), bool)
    for i, r in enumerate(rows):
        for j, (imp, clk) in enumerate(r):
            n[i, j], c[i, j], mask[i, j] = imp, clk, True
    return fit_grouped_prior(n, c, mask)


#: how far to trust the click model's relative log-odds as a prior: the calibration slope of
#: its cross-fitted scores on the Upworthy training tests (0.62, evals/learning ``lift_slope``)
CLICK_PRIOR_SLOPE = 0.6


def recipe_lift(
    session: Session,
    brand: str,
    campaign: str,
    recipes: list[str],
    slope: float = CLICK_PRIOR_SLOPE,
    *,
    model: ClickModel | None = None,
    customers: list[CustomerFeatures | None] | None = None,
) -> dict[str, float]:
    """Per recipe, exp(slope * (mean predicted log-odds of its approved copy in this campaign
    - the mean over the recipes)); recipes without predictions (no trained click model when
    their copy was written) get 1.0, so the tilt is omitted for them.

    With a click model fitted on the brand's exposures (``learn train --from-exposures``)
    and the campaign's ``customers``, each recipe's tilt is also multiplied by
    exp(its recipe x customer terms averaged over these customers - the mean over the
    recipes): a recipe that suits this audience (say, win-back for a lapsed segment)
    starts ahead. Those terms are in log-odds fitted on the brand's own data, so no slope."""
    rows = session.execute(
        select(DraftVariantRow.recipe_id, DraftVariantRow.scores)
        .join(DraftRow, DraftRow.id == DraftVariantRow.draft_id)
        .where(
            DraftRow.brand == brand,
            DraftRow.campaign == campaign,
            DraftVariantRow.approved.is_(True),
            DraftVariantRow.recipe_id.in_(recipes),
        )
    )
    logits: dict[str, list[float]] = {}
    for recipe, scores in rows:
        p = (scores or {}).get("click_ctr")
        if recipe and isinstance(p, (int, float)) and 0 < p < 1:
            logits.setdefault(recipe, []).append(float(np.log(p / (1 - p))))
    lift = {r: 1.0 for r in recipes}
    if len(logits) >= 2:  # a tilt is relative: one predicted recipe has nothing to differ from
        means = {r: float(np.mean(v)) for r, v in logits.items()}
        centre = float(np.mean(list(means.values())))
        for r in means:
            lift[r] = float(np.exp(slope * (means[r] - centre)))
    if model is not None and customers and model.meta.extra_names and len(recipes) >= 2:
        fit = {r: model.interaction_score(r, customers) for r in recipes}
        centre = float(np.mean(list(fit.values())))
        for r in recipes:
            lift[r] *= float(np.exp(fit[r] - centre))
    return lift


def compute_allocation(
    counts: dict[str, tuple[int, int]],
    prior: BetaPrior,
    config: PolicyConfig,
    seed: int,
    *,
    retired: set[str] | None = None,
    lift: dict[str, float] | None = None,
) -> tuple[list[ArmAllocation], bool]:
    """The allocation over ``counts``' recipes; previously retired recipes stay retired;
    ``lift`` tilts each recipe's prior mean (the click model's prediction)."""
    if not counts:
        raise LearningInputError(
            "no recipes to allocate over: the campaign has no exposures with recipe ids",
            fix="deliver some of the campaign's approved variants first (each records its recipe)",
        )
    recipes = list(counts)
    n = np.array([[counts[r][0] for r in recipes]], dtype=float)
    c = np.array([[counts[r][1] for r in recipes]], dtype=float)
    eligible = np.array([[r not in (retired or set()) for r in recipes]])
    if not eligible.any():
        eligible[:] = True
    tilt = np.array([[(lift or {}).get(r, 1.0) for r in recipes]])
    a0, b0 = arm_priors(prior, n, c, lift=tilt, center_on_pooled=config.center_on_pooled)
    rng = np.random.default_rng(seed)
    p, stats, live = allocate_batch(a0 + c, b0 + n - c, n, eligible, config, rng)
    warm = bool(np.where(live, n, np.inf).min() < config.warmup_exposures)
    arms = [
        ArmAllocation(
            recipe_id=r,
            impressions=int(n[0, j]),
            clicks=int(c[0, j]),
            p=float(p[0, j]),
            p_best=float(stats["p_best"][0, j]),
            expected_loss=float(min(stats["expected_loss"][0, j], 1.0)),
            retire_cost=float(min(stats["retire_cost"][0, j], 1.0)),
            retired=not bool(live[0, j]),
            click_lift=round(float(tilt[0, j]), 6),
        )
        for j, r in enumerate(recipes)
    ]
    return arms, warm


def _seed(brand: str, kind: str, segment: str, version: int) -> int:
    digest = hashlib.blake2b(f"{brand}|{kind}|{segment}|{version}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") >> 1


def latest_allocation(
    session: Session,
    brand: str,
    *,
    campaign: str | None = None,
    kind: str | None = None,
    segment: str | None = None,
) -> Allocation:
    q = select(AllocationRow).where(AllocationRow.brand == brand)
    if kind is not None and segment is not None:
        q = q.where(AllocationRow.kind == kind, AllocationRow.segment == segment)
    elif campaign is not None:
        q = q.where(AllocationRow.campaign == campaign)
    row = session.scalars(q.order_by(AllocationRow.id.desc()).limit(1)).first()
    if row is None:
        raise NoAllocation(
            f"no allocation stored for brand {brand!r}"
            + (f", campaign {campaign!r}" if campaign else ""),
            fix="run `genpersona learn update --brand B --campaign C` after some exposures",
            brand=brand,
            campaign=campaign,
        )
    return Allocation.from_row(row)


def allocation_history(session: Session, brand: str, campaign: str) -> list[Allocation]:
    rows = session.scalars(
        select(AllocationRow)
        .where(AllocationRow.brand == brand, AllocationRow.campaign == campaign)
        .order_by(AllocationRow.id)
    )
    return [Allocation.from_row(r) for r in rows]


def learn_update(
    session: Session,
    brand: str,
    campaign: str,
    *,
    config: PolicyConfig | None = None,
    window: timedelta = timedelta(days=7),
    click_model: ClickModel | None = None,
) -> Allocation:
    """Read the campaign's exposures and clicks, compute the next allocation, store it.
    ``click_model`` (the latest, if trained) adds its recipe x customer terms to the prior
    tilt (``recipe_lift``)."""
    config = config or PolicyConfig()
    kind, segment = segment_key(session, brand, campaign)
    log = campaign_log(session, brand, campaign, window=window)
    counts = arm_counts(log)
    prior = history_prior(session, brand, campaign, window)
    prev_version = session.scalar(
        select(func.max(AllocationRow.version)).where(
            AllocationRow.brand == brand,
            AllocationRow.kind == kind,
            AllocationRow.segment == segment,
        )
    )
    version = int(prev_version or 0) + 1
    retired: set[str] = set()
    if prev_version:
        prev = latest_allocation(session, brand, kind=kind, segment=segment)
        retired = {a.recipe_id for a in prev.arms if a.retired}
    seed = _seed(brand, kind, segment, version)
    people: list[CustomerFeatures | None] = []
    if click_model is not None and click_model.meta.extra_names:
        ids = sorted({e.customer_id for e in log if e.customer_id})
        found = customer_features(session, brand, ids)
        people = [found.get(i) for i in ids]
    lift = recipe_lift(session, brand, campaign, list(counts), model=click_model, customers=people)
    arms, warm = compute_allocation(counts, prior, config, seed, retired=retired, lift=lift)
    row = AllocationRow(
        brand=brand,
        kind=kind,
        segment=segment,
        campaign=campaign,
        version=version,
        seed=seed,
        arms=[a.model_dump() for a in arms],
        prior={"alpha": prior.alpha, "beta": prior.beta},
        config=config.model_dump(),
        warmup=warm,
    )
    session.add(row)
    session.flush()
    return Allocation.from_row(row)


def learn_update_all(
    session: Session,
    brand: str,
    *,
    config: PolicyConfig | None = None,
    window: timedelta = timedelta(days=7),
    click_model: ClickModel | None = None,
) -> list[Allocation]:
    """``learn update`` for every campaign of the brand with recipe exposures: what a
    Celery beat entry calls on a schedule (one call, one transaction per brand)."""
    names = session.scalars(
        select(ExposureRow.campaign)
        .where(ExposureRow.brand == brand, ExposureRow.recipe_id.is_not(None))
        .distinct()
        .order_by(ExposureRow.campaign)
    )
    return [
        learn_update(session, brand, n, config=config, window=window, click_model=click_model)
        for n in list(names)
    ]
